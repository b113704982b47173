"""Runners of mmwsss."""
from .pseudo_mask_runner import PseudoMaskRunner, apply_pseudo_data

__all__ = ['PseudoMaskRunner', 'apply_pseudo_data']
