"""Training machinery: optimizer constructors and hooks."""
from .hooks import (DropCheckpointKeysHook, ProgressBarHook,
                    StripSubmoduleWrapperHook)
from .optimizers import (MultiNetOptimWrapperConstructor,
                         PretrainedScratchOptimWrapperConstructor)

__all__ = [
    'DropCheckpointKeysHook', 'ProgressBarHook', 'StripSubmoduleWrapperHook',
    'MultiNetOptimWrapperConstructor',
    'PretrainedScratchOptimWrapperConstructor'
]
