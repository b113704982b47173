"""Losses of mmwsss."""
from .multilabel import MultiLabelSoftMarginLoss

__all__ = ['MultiLabelSoftMarginLoss']
