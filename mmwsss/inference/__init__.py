"""Offline per-image steps: pseudo-mask generation, CSRM's SAM refinement
and W-OoD's centres file (the CAM file format is
:mod:`mmwsss.utils.cam_io`)."""
from .pseudo_masks import make_pseudo_mask
from .sam_masks import build_sam_generator, generate_sam_masks
from .sam_merge import merge_sam_masks, sam_mask_owners
from .woods_centres import WOoDCentres, load_centres, save_centres

__all__ = [
    'make_pseudo_mask', 'build_sam_generator', 'generate_sam_masks',
    'merge_sam_masks', 'sam_mask_owners', 'WOoDCentres', 'load_centres',
    'save_centres'
]
