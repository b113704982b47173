"""Training machinery: optimizer constructors, hooks and runners."""
from .hooks import (CheckSegLabelsHook, OoDBatchHook, ProgressBarHook,
                    StripSubmoduleWrapperHook)
from .optimizers import (MultiNetOptimWrapperConstructor,
                         PretrainedScratchOptimWrapperConstructor)
from .runners import PseudoMaskRunner, apply_pseudo_data

__all__ = [
    'CheckSegLabelsHook', 'OoDBatchHook', 'ProgressBarHook',
    'StripSubmoduleWrapperHook',
    'MultiNetOptimWrapperConstructor',
    'PretrainedScratchOptimWrapperConstructor', 'PseudoMaskRunner',
    'apply_pseudo_data'
]
