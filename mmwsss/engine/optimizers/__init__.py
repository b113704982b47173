"""Optimizer wrapper constructors."""
from .multi_net_constructor import MultiNetOptimWrapperConstructor
from .pretrained_scratch_constructor import \
    PretrainedScratchOptimWrapperConstructor

__all__ = [
    'MultiNetOptimWrapperConstructor',
    'PretrainedScratchOptimWrapperConstructor'
]
