"""Models of mmwsss: classifiers, losses and shared utilities."""
from .classifiers import CAMClassifier
from .losses import MultiLabelSoftMarginLoss

__all__ = ['CAMClassifier', 'MultiLabelSoftMarginLoss']
