"""Inference outputs: the CAM file format, pseudo-mask generation and
W-OoD's centres file."""
from .cam_io import CAMData, cam_path, load_cam, read_cam, save_cam
from .pseudo_masks import make_pseudo_mask
from .woods_centres import WOoDCentres, load_centres, save_centres

__all__ = [
    'CAMData', 'cam_path', 'load_cam', 'read_cam', 'save_cam',
    'make_pseudo_mask', 'WOoDCentres', 'load_centres', 'save_centres'
]
