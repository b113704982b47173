"""Training machinery: optimizer constructors and hooks."""
from .hooks import (CheckSegLabelsHook, DropCheckpointKeysHook,
                    ProgressBarHook, StripSubmoduleWrapperHook)
from .optimizers import (MultiNetOptimWrapperConstructor,
                         PretrainedScratchOptimWrapperConstructor)

__all__ = [
    'CheckSegLabelsHook', 'DropCheckpointKeysHook', 'ProgressBarHook', 'StripSubmoduleWrapperHook',
    'MultiNetOptimWrapperConstructor',
    'PretrainedScratchOptimWrapperConstructor'
]
