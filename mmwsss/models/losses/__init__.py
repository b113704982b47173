"""Losses of mmwsss."""
from .contrastive import SimMaxLoss, SimMinLoss
from .multilabel import MultiLabelSoftMarginLoss

__all__ = ['MultiLabelSoftMarginLoss', 'SimMaxLoss', 'SimMinLoss']
