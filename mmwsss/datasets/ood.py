"""OoDDataset: out-of-distribution images for W-OoD, a folder plus a list
file; every image gets the all-zero label (it shows none of the target
classes)."""
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np

from mmwsss.registry import DATASETS
from mmwsss.utils.errors import ConfigError
from .base import WSSSDataset


@DATASETS.register_module()
class OoDDataset(WSSSDataset):
    """Images that contain none of the in-distribution classes.

    W-OoD (README: W-OoD) trains the CAM classifier against all-zero targets on
    such images (water without boats, rails without trains). The layout is
    the reference's: an image folder and a list of file names relative to
    it, one per line (blank lines and ``#`` comments skipped; a name without
    an extension gets ``img_suffix``)::

        {data_root}/JPEGImages/ood_00000.jpg   # data_prefix.img_path
        {data_root}/ood_list.txt              # ann_file

    ``tools/generate_synthetic.py OUT --num-ood N`` writes this layout to
    ``OUT/OoD``. Entries carry ``img_path``, ``img_id`` (the name without
    extension), ``seg_map_path=None`` and ``gt_label`` (C zeros), so the
    in-distribution classification pipeline (``LoadImageFromFile`` ...
    ``PackWSSSInputs``) runs on them unchanged.

    Args:
        ann_file: the list file, relative to ``data_root``.
        data_prefix: ``img_path`` is the image folder (default
            ``JPEGImages``).
        num_classes: C, the length of the label. Needed only without
            ``metainfo['classes']`` (background first, as the
            in-distribution set); when both are given they must agree.
        **kwargs: :class:`WSSSDataset` arguments (``data_root``,
            ``metainfo``, ``pipeline``, ``img_suffix``, ...). The label
            options do not apply: ``label_source`` can only be ``'none'``
            and ``skip_background_only`` only False.
    """
    LABEL_SOURCES = ('none', )
    LAYOUT_HINT = (
        'for synthetic OoD images run `python tools/generate_synthetic.py '
        'OUT --num-ood N` and use data_root=OUT/OoD; for real ones (e.g. '
        "W-OoD's OpenImages OoD_images) put the images in one folder "
        '(data_prefix.img_path) and list their file names relative to it, '
        'one per line, in ann_file (e.g. `ls OoD_images > ood_list.txt`)')

    DEFAULT_PREFIX = (('img_path', 'JPEGImages'), )

    def __init__(self,
                 ann_file: str = 'ood_list.txt',
                 num_classes: Optional[int] = None,
                 label_source: str = 'none',
                 skip_background_only: bool = False,
                 **kwargs) -> None:
        if skip_background_only:
            raise ConfigError(
                'OoDDataset: skip_background_only=True would drop every OoD '
                'image (their label is all zeros); leave it False')
        if num_classes is not None and int(num_classes) < 1:
            raise ConfigError(
                f'OoDDataset: num_classes must be >= 1, got {num_classes}')
        self.num_classes = None if num_classes is None else int(num_classes)
        super().__init__(
            ann_file=ann_file,
            label_source=label_source,
            skip_background_only=False,
            **kwargs)

    @property
    def num_fg_classes(self) -> int:
        """C, the length of the all-zero label."""
        if self.num_classes is not None:
            return self.num_classes
        return super().num_fg_classes

    def _check_classes(self) -> Tuple[str, ...]:
        """The class names (may be absent when ``num_classes`` is set)."""
        classes = self._metainfo.get('classes')
        if not classes:
            if self.num_classes is None:
                raise ConfigError(
                    'OoDDataset: the label length is unknown; set '
                    'metainfo=dict(classes=...) as in the in-distribution '
                    'data set (background first) or num_classes=C')
            return ()
        classes = super()._check_classes()
        if (self.num_classes is not None
                and self.num_classes != len(classes) - 1):
            raise ConfigError(
                f'OoDDataset: num_classes={self.num_classes} but metainfo '
                f'has {len(classes) - 1} foreground classes; drop one of '
                'them or make them agree')
        return classes

    def _seg_dir(self) -> Optional[str]:
        return None  # OoD images have no masks

    def _read_ann_file(self) -> List[dict]:
        """One entry per line: the whole line is a file name."""
        entries = []
        for lineno, name in self._read_ann_lines():
            stem, ext = osp.splitext(name)
            entries.append(
                dict(
                    img_id=stem,
                    _img_name=name if ext else name + self.img_suffix,
                    _lineno=lineno))
        return entries

    def _img_name(self, entry: dict) -> str:
        return entry['_img_name']

    def load_data_list(self) -> List[dict]:
        """Entries of ann_file; a missing data root is named first."""
        if self.data_root and not osp.isdir(self.data_root):
            raise FileNotFoundError(
                f'OoD data root {self.data_root} does not exist (check '
                f'`data_root`){self._layout_hint()}')
        return super().load_data_list()

    def _load_labels(self, data_list: List[dict]) -> List[np.ndarray]:
        return [np.zeros(self.num_fg_classes, np.float32) for _ in data_list]
