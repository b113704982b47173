"""Models of mmwsss: classifiers, CAM trainers, losses, shared utilities."""
from .classifiers import OCCSE, PNOC, POC, CAMClassifier, PuzzleCAM
from .losses import MultiLabelSoftMarginLoss

__all__ = [
    'CAMClassifier', 'PNOC', 'POC', 'OCCSE', 'PuzzleCAM',
    'MultiLabelSoftMarginLoss'
]
