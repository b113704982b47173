"""Post-processing wrappers around stock MMSeg segmentors."""
from .crf_tta import CRFSegTTAModel

__all__ = ['CRFSegTTAModel']
