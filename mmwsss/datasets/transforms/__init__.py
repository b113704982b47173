"""Data transforms of mmwsss (registered in ``mmwsss.registry.TRANSFORMS``)."""
from .formatting import PackWSSSInputs
from .loading import LoadOptionalAnnotations
from .processing import RandomCropPad, RandomRescale, RandomResizeLongSide

__all__ = [
    'PackWSSSInputs', 'LoadOptionalAnnotations', 'RandomCropPad',
    'RandomRescale', 'RandomResizeLongSide'
]
