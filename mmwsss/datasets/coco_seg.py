"""MS COCO 2014 as an 81-class semantic segmentation data set, for the final
segmentation stage (stock MMSeg segmentors trained on pseudo-masks).

MMSeg ships COCO-Stuff (171/182 classes) only; WSSS papers train and
evaluate on the 81-class object segmentation (background + 80 things) with
VOC-format masks, so this is the one data set the final stage adds.
"""
import os.path as osp
from typing import List

from mmseg.datasets import BaseSegDataset

from mmwsss.registry import DATASETS
from .base import read_list_file
from .coco import (COCO14_CLASSES, COCO14_PALETTE, COCOFileNames,
                   parse_coco_ids)


@DATASETS.register_module()
class COCO14SegDataset(COCOFileNames, BaseSegDataset):
    """MS COCO 2014 object segmentation: 81 classes, background at index 0.

    The same layout as :class:`COCO14ClsDataset`: images
    ``{data_prefix.img_path}/{img_name_template}`` and masks
    ``{data_prefix.seg_map_path}/{seg_name_template}`` (class indices
    0..80, 255 = ignore), where ``{id}`` is the integer image id. ann_file
    lists image ids, one per line, in any of the spellings
    ``000000000009``, ``9`` or ``COCO_train2014_000000000009.jpg``.
    Pseudo-masks written by ``tools/make_pseudo_masks.py`` from COCO CAMs
    are named ``{id:012d}.png``, as the ground truth, so training on them is
    a different ``data_prefix.seg_map_path``.

    Args:
        ann_file: list of image ids, relative to ``data_root``.
        img_name_template: image file name, a format string using ``{id}``
            (or ``{}``); ``img_suffix`` is appended when it has no
            extension. ``'COCO_val2014_{id:012d}.jpg'`` for val2014.
        seg_name_template: mask file name, likewise (``seg_map_suffix``).
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments
            (``data_root``, ``data_prefix``, ``pipeline``, ...).
    """
    METAINFO = dict(
        classes=COCO14_CLASSES, palette=[list(c) for c in COCO14_PALETTE])

    def __init__(self, ann_file: str = 'train2014.txt', **kwargs) -> None:
        super().__init__(ann_file=ann_file, **kwargs)

    def _image_ids(self) -> List[int]:
        """Integer image ids listed in ann_file (each once)."""
        if not self.ann_file or not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'ann_file not found: {self.ann_file!r} (check `ann_file` '
                f'and `data_root`={self.data_root!r})')
        lines = read_list_file(self.ann_file, self.backend_args)
        return [i for i, _ in parse_coco_ids(lines, self.ann_file)]

    def load_data_list(self) -> List[dict]:
        """One entry per listed image: ``img_path``, ``seg_map_path``,
        ``img_id`` (12-digit string) and mmseg's label keys."""
        img_dir = self.data_prefix.get('img_path', '') or ''
        seg_dir = self.data_prefix.get('seg_map_path', None)
        data_list = []
        for image_id in self._image_ids():
            info = dict(
                img_path=osp.join(img_dir, self._img_file(image_id)),
                img_id=f'{image_id:012d}',
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[])
            if seg_dir is not None:
                info['seg_map_path'] = osp.join(seg_dir,
                                                self._seg_file(image_id))
            data_list.append(info)
        if not data_list:
            raise ValueError(f'{type(self).__name__}: ann_file '
                             f'{self.ann_file} lists no images')
        return data_list
