"""CAM classifiers and the CAM trainers built on them."""
from .cam_classifier import CAMClassifier
from .pnoc import OCCSE, PNOC, POC, PNOCFamily, PuzzleCAM
from .woods import WOoD

__all__ = [
    'CAMClassifier', 'PNOCFamily', 'PNOC', 'POC', 'OCCSE', 'PuzzleCAM', 'WOoD'
]
