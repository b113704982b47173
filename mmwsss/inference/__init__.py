"""Offline per-image steps: pseudo-mask generation and W-OoD's centres
file (the CAM file format is :mod:`mmwsss.utils.cam_io`)."""
from .pseudo_masks import make_pseudo_mask
from .woods_centres import WOoDCentres, load_centres, save_centres

__all__ = [
    'make_pseudo_mask', 'WOoDCentres', 'load_centres', 'save_centres'
]
