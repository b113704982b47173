"""WSSS data sets (registered in ``mmwsss.registry.DATASETS``) and
transforms."""
from . import transforms  # noqa: F401  (registers the WSSS transforms)
from .base import WSSSDataset
from .coco import COCO14_CLASSES, COCO14_PALETTE, COCO14ClsDataset
from .coco_seg import COCO14SegDataset
from .custom import ListClsDataset
from .cycling import CyclingLoader
from .ood import OoDDataset
from .voc import VOC_CLASSES, VOC_PALETTE, VOCClsDataset

__all__ = [
    'WSSSDataset', 'VOCClsDataset', 'COCO14ClsDataset', 'COCO14SegDataset',
    'ListClsDataset', 'OoDDataset', 'CyclingLoader',
    'VOC_CLASSES', 'VOC_PALETTE', 'COCO14_CLASSES', 'COCO14_PALETTE'
]
