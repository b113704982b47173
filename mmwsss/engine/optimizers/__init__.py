"""Optimizer wrapper constructors."""
from .pretrained_scratch_constructor import \
    PretrainedScratchOptimWrapperConstructor

__all__ = ['PretrainedScratchOptimWrapperConstructor']
