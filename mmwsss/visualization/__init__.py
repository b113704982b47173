"""Visualisation helpers."""
from .cam_overlay import overlay_cams

__all__ = ['overlay_cams']
