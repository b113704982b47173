"""Evaluation of CAMs, pseudo-masks and segmentations."""
from .cam_utils import (cams_to_index, fg_max_and_index, index_to_label,
                        sweep_thresholds, threshold_index)
from .metrics import CAMIoUMetric

__all__ = [
    'CAMIoUMetric', 'cams_to_index', 'fg_max_and_index', 'index_to_label',
    'sweep_thresholds', 'threshold_index'
]
