"""WSSSDataset: one data set for both halves of weakly supervised
segmentation, the image-level multi-label classification (``gt_label``) that
trains the CAM networks and the pixel masks (``seg_map_path``) that evaluate
them."""
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import (Callable, Dict, List, Optional, Sequence, Tuple,
                    TypeVar, Union)

import mmengine
import numpy as np
from mmengine.fileio import join_path
from mmengine.logging import print_log
from mmengine.utils import is_abs
from mmseg.datasets import BaseSegDataset
from PIL import Image

from mmwsss.registry import DATASETS
from mmwsss.utils.errors import DataError
from mmwsss.utils.palette import make_palette

T = TypeVar('T')
R = TypeVar('R')

#: Accepted names of the first (index 0) class.
BACKGROUND_NAMES = ('background', '_background_', 'bg')
#: PIL modes whose pixel values are class indices.
INDEX_MODES = ('P', 'L', '1', 'I', 'I;16')


def read_mask_values(path: str) -> np.ndarray:
    """Sorted distinct pixel values of an index-map mask file.

    Palette ("P") and grayscale ("L") PNGs are read as index maps directly,
    as mmseg's ``LoadAnnotations`` does; colour (RGB) masks are refused
    because their colours are not class indices.
    """
    try:
        with Image.open(path) as img:
            if img.mode not in INDEX_MODES:
                raise ValueError(
                    f'{path}: a mask must be an index map (PNG mode "P" or '
                    f'"L"), got mode "{img.mode}"; convert colour masks to '
                    'class-index PNGs first')
            arr = np.asarray(img)
    except (OSError, SyntaxError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f'{path}: cannot read mask ({e})') from e
    if arr.dtype == np.uint8:
        return np.flatnonzero(np.bincount(arr.ravel(), minlength=256))
    return np.unique(arr.astype(np.int64))


def read_list_file(path: str,
                   backend_args: Optional[dict] = None
                   ) -> List[Tuple[int, str]]:
    """(line number, stripped text) of the non-empty lines of a list file
    that are not ``#`` comments."""
    lines = mmengine.list_from_file(path, backend_args=backend_args)
    return [(lineno, line.strip()) for lineno, line in enumerate(lines, 1)
            if line.strip() and not line.strip().startswith('#')]


def check_unique_ids(ids: Sequence[Tuple[str, int]], ann_file: str) -> None:
    """Refuse a list file naming an image twice (it would be trained on and
    evaluated twice, and its per-image outputs written twice).

    Args:
        ids: (image id, line number) of each entry, ids as the data set
            normalises them (``9`` and ``000000000009`` are one COCO id).
        ann_file: the list file, for the message.

    Raises:
        DataError: names the file, the first repeated id and its lines.
    """
    lines: Dict[str, List[int]] = {}
    for img_id, lineno in ids:
        lines.setdefault(img_id, []).append(lineno)
    repeated = {k: v for k, v in lines.items() if len(v) > 1}
    if repeated:
        img_id, where = next(iter(repeated.items()))
        more = (f'; {len(repeated)} ids are listed more than once'
                if len(repeated) > 1 else '')
        raise DataError(
            f'{ann_file}: image id {img_id!r} is listed {len(where)} times '
            f'(lines {", ".join(map(str, where))}){more}; list each image '
            'once')


def parallel_map(fn: Callable[[T], R],
                 items: Sequence[T],
                 workers: int = 1) -> List[R]:
    """``[fn(x) for x in items]`` on a thread pool (decoders release the
    GIL); the first exception in item order is raised."""
    if workers <= 1 or len(items) < 32:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


@DATASETS.register_module()
class WSSSDataset(BaseSegDataset):
    """Image-level multi-label + segmentation data set for WSSS.

    ``metainfo['classes']`` lists the segmentation classes with background
    first: segmentation index ``i`` is class ``classes[i]`` and the
    image-level label index is ``i - 1``, so there are
    ``C = len(classes) - 1`` foreground classes. Unlike mmseg's subset
    remapping, ``classes`` here always describes the indices stored in the
    masks on disk (``label_map`` stays None).

    Each ``data_list`` entry holds ``img_path``, ``seg_map_path`` (None when
    the mask file does not exist), ``img_id`` (str), ``gt_label``
    (float32 multi-hot of length C), ``label_map``, ``reduce_zero_label``
    and ``seg_fields``.

    The ann_file lists one image id per line; images are
    ``data_prefix.img_path/{id}{img_suffix}`` and masks
    ``data_prefix.seg_map_path/{id}{seg_map_suffix}``.

    Args:
        ann_file: list of image ids, relative to ``data_root``.
        label_source: where ``gt_label`` comes from; ``'mask'`` (the values
            of the mask, 0 and ``ignore_index`` excluded). Subclasses add
            more sources (see ``LABEL_SOURCES``).
        skip_background_only: drop images without any foreground label
            (counted in the log). When False they stay with an all-zero
            label, as a segmentation evaluation set needs.
        load_workers: threads that read masks at load time; None uses
            ``min(8, cpu_count)``.
        data_prefix: folders of the images (``img_path``) and masks
            (``seg_map_path``); keys left out take ``DEFAULT_PREFIX``.
        **kwargs: the rest of :class:`mmseg.datasets.BaseSegDataset`'s
            arguments (``data_root``, ``metainfo``, ``pipeline``,
            ``ignore_index``, ...).
    """
    METAINFO: dict = dict()
    LABEL_SOURCES: Tuple[str, ...] = ('mask', )
    #: What to get and where to put it, added to missing-folder errors.
    LAYOUT_HINT: str = ''
    #: ``data_prefix`` entries of the layout, for the keys a config leaves
    #: out; none: mmseg's default (``img_path`` and ``seg_map_path`` '').
    DEFAULT_PREFIX: Tuple[Tuple[str, str], ...] = ()

    def __init__(self,
                 ann_file: str = '',
                 data_prefix: Optional[dict] = None,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 label_source: str = 'mask',
                 skip_background_only: bool = True,
                 reduce_zero_label: bool = False,
                 load_workers: Optional[int] = None,
                 **kwargs) -> None:
        if label_source not in self.LABEL_SOURCES:
            raise ValueError(
                f'{type(self).__name__}: label_source={label_source!r} is '
                f'not one of {self.LABEL_SOURCES}')
        if reduce_zero_label:
            raise ValueError(
                f'{type(self).__name__}: reduce_zero_label=True is not '
                'supported: WSSS masks keep background at index 0')
        self.label_source = label_source
        self.skip_background_only = skip_background_only
        self.load_workers = (min(8, os.cpu_count() or 1)
                             if load_workers is None else load_workers)
        if data_prefix is not None or self.DEFAULT_PREFIX:
            kwargs['data_prefix'] = dict(self.DEFAULT_PREFIX,
                                         **(data_prefix or {}))
        super().__init__(
            ann_file=ann_file,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=False,
            **kwargs)

    # ------------------------------------------------------------------
    # metainfo
    # ------------------------------------------------------------------
    @classmethod
    def get_label_map(cls,
                      new_classes: Optional[Sequence] = None
                      ) -> Optional[Dict[int, int]]:
        """No remapping: ``metainfo['classes']`` names the indices that the
        masks on disk hold (a replacement class list, e.g. a custom data set
        in VOC layout, is not a subset of VOC's)."""
        return None

    @classmethod
    def _load_metainfo(cls, metainfo: Optional[dict] = None) -> dict:
        """Merge ``metainfo`` into ``METAINFO``; classes given without a
        palette of the same length get the VOC colour map."""
        info = super()._load_metainfo(metainfo)
        given = metainfo or {}
        classes = info.get('classes')
        if (classes is not None and 'palette' not in given
                and len(info.get('palette') or ()) != len(classes)):
            info['palette'] = [list(c) for c in make_palette(len(classes))]
        return info

    @property
    def num_fg_classes(self) -> int:
        """C, the number of foreground (image-level label) classes."""
        return len(self._metainfo['classes']) - 1

    def _check_classes(self) -> Tuple[str, ...]:
        """The class names; background must come first."""
        classes = self._metainfo.get('classes')
        if not classes:
            raise ValueError(
                f'{type(self).__name__}: set metainfo=dict(classes=(...)) '
                "with 'background' first")
        if str(classes[0]).lower() not in BACKGROUND_NAMES:
            raise ValueError(
                f'{type(self).__name__}: metainfo classes must start with '
                f"'background' (segmentation index 0), got {classes[0]!r}")
        if len(classes) < 2:
            raise ValueError(f'{type(self).__name__}: metainfo classes need '
                             'at least one foreground class')
        return tuple(classes)

    def _layout_hint(self) -> str:
        """``'; ' + LAYOUT_HINT``, or ``''`` when the class has none."""
        return f'; {self.LAYOUT_HINT}' if self.LAYOUT_HINT else ''

    def _join_root(self, path: str) -> str:
        """``path`` joined to ``data_root`` unless absolute."""
        if path and not is_abs(path) and self.data_root:
            return join_path(self.data_root, path)
        return path

    # ------------------------------------------------------------------
    # loading
    # ------------------------------------------------------------------
    def _read_ann_lines(self) -> List[Tuple[int, str]]:
        """(line number, stripped text) of the non-empty, non-comment lines
        of ann_file."""
        if not self.ann_file:
            raise ValueError(
                f'{type(self).__name__}: ann_file is not set; give the list '
                'of images (relative to data_root)')
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'ann_file not found: {self.ann_file} (check `ann_file` and '
                f'`data_root`={self.data_root!r}){self._layout_hint()}')
        return read_list_file(self.ann_file, self.backend_args)

    def _read_ann_file(self) -> List[dict]:
        """Partial entries (``img_id`` and private keys used by
        ``_load_labels``) from ann_file: one image id per line."""
        return [
            dict(img_id=line.split()[0], _lineno=lineno)
            for lineno, line in self._read_ann_lines()
        ]

    def _img_name(self, entry: dict) -> str:
        """Image file name of an entry, relative to data_prefix.img_path."""
        return entry['img_id'] + self.img_suffix

    def _seg_name(self, entry: dict) -> str:
        """Mask file name of an entry, relative to
        data_prefix.seg_map_path."""
        return entry['img_id'] + self.seg_map_suffix

    def _seg_dir(self) -> Optional[str]:
        """Mask folder, or None when this data set has no masks."""
        return self.data_prefix.get('seg_map_path') or None

    def load_data_list(self) -> List[dict]:
        """Entries of ann_file with paths checked and ``gt_label`` set."""
        self._check_classes()
        entries = self._read_ann_file()
        if not entries:
            raise ValueError(f'{type(self).__name__}: ann_file '
                             f'{self.ann_file} lists no images')
        check_unique_ids([(e['img_id'], e['_lineno']) for e in entries],
                         self.ann_file)
        img_dir = self.data_prefix.get('img_path', '') or ''
        seg_dir = self._seg_dir()
        data_list = []
        missing_img = []
        for entry in entries:
            img_path = osp.join(img_dir, self._img_name(entry))
            if not osp.isfile(img_path):
                missing_img.append(img_path)
            seg_map_path = None
            if seg_dir is not None:
                path = osp.join(seg_dir, self._seg_name(entry))
                seg_map_path = path if osp.isfile(path) else None
                entry['_seg_candidate'] = path
            info = dict(
                img_path=img_path,
                seg_map_path=seg_map_path,
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[])
            info.update(entry)
            data_list.append(info)
        if missing_img:
            hint = ('' if osp.isdir(img_dir) else
                    f' (the folder {img_dir} does not exist'
                    f'{self._layout_hint()})')
            raise FileNotFoundError(
                f'image not found: {missing_img[0]}{hint}; '
                f'{len(missing_img)} of {len(entries)} images listed in '
                f'{self.ann_file} are missing. Check `data_root`, '
                '`data_prefix.img_path` and the image suffix/name template')

        labels = self._load_labels(data_list)
        for info, label in zip(data_list, labels):
            info['gt_label'] = np.asarray(label, dtype=np.float32)
            for key in [k for k in info if k.startswith('_')]:
                del info[key]
        return data_list

    def _load_labels(self, data_list: List[dict]) -> List[np.ndarray]:
        """One multi-hot label per entry, from ``self.label_source``."""
        if self.label_source == 'mask':
            return self._labels_from_masks(data_list)
        raise ValueError(f'{type(self).__name__}: unsupported label_source '
                         f'{self.label_source!r}')

    def _labels_from_masks(self, data_list: List[dict]) -> List[np.ndarray]:
        """Labels from the distinct mask values (0 and ignore_index are not
        labels); every mask is read once."""
        missing = [
            d.get('_seg_candidate') for d in data_list
            if d['seg_map_path'] is None
        ]
        if missing:
            where = missing[0] or '(no mask folder configured)'
            raise FileNotFoundError(
                f'mask not found: {where}; {len(missing)} of '
                f'{len(data_list)} images listed in {self.ann_file} have no '
                "mask, which label_source='mask' needs. Check "
                '`data_prefix.seg_map_path` and `seg_map_suffix`, or choose '
                'another `label_source`')
        num_fg = self.num_fg_classes
        ignore = self.ignore_index

        def to_label(path: str) -> np.ndarray:
            values = read_mask_values(path)
            bad = values[(values > num_fg) & (values != ignore)]
            if bad.size:
                raise ValueError(
                    f'{path}: mask value {int(bad[0])} is not a class index; '
                    f'metainfo has {num_fg + 1} classes (0..{num_fg}) and '
                    f'ignore_index={ignore}. Fix: set metainfo classes to the '
                    'classes the masks were made with, or store void pixels '
                    f'as {ignore}')
            label = np.zeros(num_fg, np.float32)
            fg = values[(values >= 1) & (values <= num_fg)]
            label[fg - 1] = 1
            return label

        return parallel_map(to_label, [d['seg_map_path'] for d in data_list],
                            self.load_workers)

    def filter_data(self) -> List[dict]:
        """Drop background-only images when ``skip_background_only``."""
        data_list = super().filter_data()
        if self.skip_background_only:
            kept = [d for d in data_list if d['gt_label'].any()]
            dropped = len(data_list) - len(kept)
            if dropped:
                print_log(
                    f'{type(self).__name__}: skipped {dropped} of '
                    f'{len(data_list)} images of {self.ann_file} with no '
                    'foreground label (skip_background_only=True)',
                    logger='current')
            data_list = kept
        if not data_list:
            raise ValueError(
                f'{type(self).__name__}: no images left from ann_file '
                f'{self.ann_file} (all are background-only; set '
                'skip_background_only=False to keep them)')
        return data_list

    def get_cat_ids(self, idx: int) -> List[int]:
        """Foreground label indices of an image (for class-aware
        samplers)."""
        return np.flatnonzero(self.get_data_info(idx)['gt_label']).tolist()


def label_from_indices(indices: Union[Sequence[int], np.ndarray],
                       num_classes: int) -> np.ndarray:
    """Multi-hot float32 vector of length ``num_classes``."""
    label = np.zeros(num_classes, np.float32)
    label[np.asarray(list(indices), dtype=np.int64)] = 1
    return label
