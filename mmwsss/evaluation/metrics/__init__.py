"""mmwsss evaluation metrics (and metric-style writers)."""
from .cam_iou_metric import CAMIoUMetric
from .cam_writer import CAMWriter

__all__ = ['CAMIoUMetric', 'CAMWriter']
