"""Inference outputs: the CAM file format and pseudo-mask generation."""
from .cam_io import CAMData, cam_path, load_cam, read_cam, save_cam
from .pseudo_masks import make_pseudo_mask

__all__ = [
    'CAMData', 'cam_path', 'load_cam', 'read_cam', 'save_cam',
    'make_pseudo_mask'
]
