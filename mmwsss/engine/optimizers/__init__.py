"""Optimizer wrapper constructors and the summed-accumulation wrappers."""
from .multi_net_constructor import MultiNetOptimWrapperConstructor
from .pretrained_scratch_constructor import \
    PretrainedScratchOptimWrapperConstructor
from .sum_accumulation import (AMP_COUNTERPARTS, SumAccumAmpOptimWrapper,
                               SumAccumOptimWrapper)

__all__ = [
    'AMP_COUNTERPARTS', 'SumAccumAmpOptimWrapper', 'SumAccumOptimWrapper',
    'MultiNetOptimWrapperConstructor',
    'PretrainedScratchOptimWrapperConstructor'
]
