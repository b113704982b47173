"""CAM classifiers and the CAM trainers built on them."""
from .cam_classifier import CAMClassifier
from .icd import ICD
from .pnoc import OCCSE, PNOC, POC, PNOCFamily, PuzzleCAM
from .woods import WOoD

__all__ = [
    'CAMClassifier', 'ICD', 'PNOCFamily', 'PNOC', 'POC', 'OCCSE', 'PuzzleCAM', 'WOoD'
]
