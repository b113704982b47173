"""Evaluation of CAMs, pseudo-masks and segmentations."""
from .metrics import CAMIoUMetric

__all__ = ['CAMIoUMetric']
