"""Models of mmwsss: classifiers, CAM trainers, losses, shared utilities."""
from .affinity import (AffinityLoss, AffinityNet, PathIndex,
                       edge_to_affinity, get_path_index, pair_labels)
from .classifiers import (OCCSE, PNOC, POC, CAMClassifier, PNOCFamily,
                          PuzzleCAM)
from .losses import MultiLabelSoftMarginLoss
from .saliency import C2AM
from .segmentors import CRFSegTTAModel

__all__ = [
    'CAMClassifier', 'PNOCFamily', 'PNOC', 'POC', 'OCCSE', 'PuzzleCAM',
    'MultiLabelSoftMarginLoss', 'PathIndex', 'get_path_index',
    'edge_to_affinity', 'pair_labels', 'AffinityNet', 'AffinityLoss',
    'CRFSegTTAModel', 'C2AM'
]
