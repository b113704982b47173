"""Models of mmwsss: classifiers, CAM trainers, losses, shared utilities."""
from .affinity import (AffinityLoss, AffinityNet, PathIndex,
                       edge_to_affinity, get_path_index, pair_labels)
from .backbones import DeepLabVGG16
from .classifiers import (ICD, OCCSE, PNOC, POC, CAMClassifier, PNOCFamily,
                          PuzzleCAM, WOoD)
from .losses import MultiLabelSoftMarginLoss
from .saliency import C2AM
from .segmentors import CRFSegTTAModel

__all__ = [
    'CAMClassifier', 'ICD', 'DeepLabVGG16', 'PNOCFamily', 'PNOC', 'POC',
    'OCCSE', 'PuzzleCAM', 'WOoD',
    'MultiLabelSoftMarginLoss', 'PathIndex', 'get_path_index',
    'edge_to_affinity', 'pair_labels', 'AffinityNet', 'AffinityLoss',
    'CRFSegTTAModel', 'C2AM'
]
