"""Data transforms of mmwsss (registered in ``mmwsss.registry.TRANSFORMS``)."""
from .cam_loading import LoadCAMHint, LoadCAMs
from .formatting import PackWSSSInputs
from .loading import LoadOptionalAnnotations
from .label_mapping import RemapLabels
from .processing import (FixedResize, RandomCropPad, RandomRescale,
                         RandomResizeLongSide)
from .superpixels import LoadSuperpixels, SuperpixelIds

__all__ = [
    'PackWSSSInputs', 'LoadOptionalAnnotations', 'RandomCropPad',
    'RandomRescale', 'RandomResizeLongSide', 'FixedResize', 'LoadCAMs',
    'LoadCAMHint', 'RemapLabels', 'LoadSuperpixels', 'SuperpixelIds'
]
