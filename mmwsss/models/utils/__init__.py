"""Shared model utilities: CAM normalisation, label smoothing, TTA."""
from .cam import label_smoothing, normalize_cam
from .tta import multi_scale_flip_forward, resize_image, upsample_to

__all__ = [
    'label_smoothing', 'normalize_cam', 'multi_scale_flip_forward',
    'resize_image', 'upsample_to'
]
