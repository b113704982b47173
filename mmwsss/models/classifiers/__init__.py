"""CAM classifiers and the CAM trainers built on them."""
from .cam_classifier import CAMClassifier
from .pnoc import OCCSE, PNOC, POC, PuzzleCAM

__all__ = ['CAMClassifier', 'PNOC', 'POC', 'OCCSE', 'PuzzleCAM']
