"""Losses of mmwsss."""
from .contrastive import SimMaxLoss, SimMinLoss
from .multilabel import MultiLabelSoftMarginLoss
from .seg_cross_entropy import LabelSmoothCrossEntropyLoss

__all__ = [
    'MultiLabelSoftMarginLoss', 'SimMaxLoss', 'SimMinLoss',
    'LabelSmoothCrossEntropyLoss'
]
