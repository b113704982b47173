"""ListClsDataset: a user's own multi-label data, described by a list file,
with no subclassing needed."""
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np

from mmwsss.registry import DATASETS
from .base import BACKGROUND_NAMES, WSSSDataset, label_from_indices


@DATASETS.register_module()
class ListClsDataset(WSSSDataset):
    """An image folder plus a list file of image-level labels.

    Each line of ``ann_file`` is ``image_name label1 label2 ...``
    (whitespace separated), or the same fields separated by commas (CSV,
    for class names with spaces). ``image_name`` is relative to
    ``data_prefix.img_path``; without an extension ``img_suffix`` is
    appended. Labels are class names from ``metainfo['classes']`` or
    foreground indices ``0..C-1`` (``classes[i + 1]``); a line without
    labels (or with only ``background``) is a background-only image.
    Blank lines and lines starting with ``#`` are skipped.

    Masks are optional: set ``data_prefix.seg_map_path`` to a folder of
    index PNGs named ``{image name without extension}{seg_map_suffix}``.
    ``img_id`` is the image name without extension.

    Example::

        dataset = dict(
            type='ListClsDataset', data_root='data/mine',
            ann_file='train.txt', data_prefix=dict(img_path='images'),
            metainfo=dict(classes=('background', 'cat', 'dog')))

    Args:
        label_source: ``'list'`` (the labels of ann_file) or ``'mask'``.
        **kwargs: :class:`WSSSDataset` arguments.
    """
    LABEL_SOURCES = ('list', 'mask')
    DEFAULT_PREFIX = (('img_path', ''), ('seg_map_path', ''))

    def __init__(self,
                 ann_file: str = '',
                 data_prefix: Optional[dict] = None,
                 label_source: str = 'list',
                 **kwargs) -> None:
        self.has_masks = bool((data_prefix or {}).get('seg_map_path'))
        super().__init__(
            ann_file=ann_file,
            data_prefix=data_prefix,
            label_source=label_source,
            **kwargs)

    def _seg_dir(self) -> Optional[str]:
        return super()._seg_dir() if self.has_masks else None

    def _read_ann_file(self) -> List[dict]:
        entries = []
        for lineno, line in self._read_ann_lines():
            sep = ',' if ',' in line else None
            fields = [f.strip() for f in line.split(sep)]
            fields = [f for f in fields if f]
            name = fields[0]
            stem, ext = osp.splitext(name)
            entries.append(
                dict(
                    img_id=stem,
                    _img_name=name if ext else name + self.img_suffix,
                    _tokens=fields[1:],
                    _lineno=lineno))
        return entries

    def _img_name(self, entry: dict) -> str:
        return entry['_img_name']

    def _load_labels(self, data_list: List[dict]) -> List[np.ndarray]:
        if self.label_source == 'list':
            return [self._parse_tokens(d['_tokens'], d['_lineno'])
                    for d in data_list]
        return super()._load_labels(data_list)

    def _name_index(self) -> Tuple[Dict[str, int], Tuple[str, ...]]:
        """Foreground class name -> label index, and the names."""
        fg = self._check_classes()[1:]
        return {name: i for i, name in enumerate(fg)}, fg

    def _parse_tokens(self, tokens: List[str], lineno: int) -> np.ndarray:
        """Multi-hot label of one line's label fields."""
        index, fg = self._name_index()
        found = []
        for token in tokens:
            if token in index:
                found.append(index[token])
            elif token.lower() in BACKGROUND_NAMES:
                continue
            elif token.lstrip('-').isdigit():
                value = int(token)
                if not 0 <= value < len(fg):
                    raise ValueError(
                        f'{self.ann_file}:{lineno}: label index {value} is '
                        f'out of range 0..{len(fg) - 1} (foreground indices; '
                        f'index i is class classes[i + 1])')
                found.append(value)
            else:
                raise ValueError(
                    f'{self.ann_file}:{lineno}: unknown class name '
                    f'{token!r}; metainfo classes are {fg}')
        return label_from_indices(found, len(fg))
