"""Losses of mmwsss."""
from .contrastive import SimMaxLoss, SimMinLoss
from .multilabel import MultiLabelSoftMarginLoss
from .seg_cross_entropy import LabelSmoothCrossEntropyLoss
from .woods import OoDClassificationLoss, WOoDMetricLoss, push_threshold

__all__ = [
    'MultiLabelSoftMarginLoss', 'SimMaxLoss', 'SimMinLoss',
    'LabelSmoothCrossEntropyLoss', 'WOoDMetricLoss', 'OoDClassificationLoss',
    'push_threshold'
]
