"""Training machinery: optimizer constructors, hooks and runners."""
from .hooks import (DropCheckpointKeysHook, ProgressBarHook,
                    StripSubmoduleWrapperHook)
from .optimizers import (MultiNetOptimWrapperConstructor,
                         PretrainedScratchOptimWrapperConstructor)
from .runners import PseudoMaskRunner, apply_pseudo_data

__all__ = [
    'DropCheckpointKeysHook', 'ProgressBarHook', 'StripSubmoduleWrapperHook',
    'MultiNetOptimWrapperConstructor',
    'PretrainedScratchOptimWrapperConstructor', 'PseudoMaskRunner',
    'apply_pseudo_data'
]
