"""CAM classifiers and the CAM trainers built on them."""
from .cam_classifier import CAMClassifier
from .pnoc import OCCSE, PNOC, POC, PNOCFamily, PuzzleCAM

__all__ = ['CAMClassifier', 'PNOCFamily', 'PNOC', 'POC', 'OCCSE', 'PuzzleCAM']
