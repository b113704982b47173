"""mmwsss evaluation metrics (and metric-style writers)."""
from .cam_iou_metric import CAMIoUMetric
from .cam_writer import CAMWriter
from .saliency_writer import SaliencyWriter

__all__ = ['CAMIoUMetric', 'CAMWriter', 'SaliencyWriter']
