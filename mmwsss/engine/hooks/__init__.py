"""Hooks of mmwsss."""
from .checkpoint_keys_hook import (DropCheckpointKeysHook,
                                   StripSubmoduleWrapperHook)
from .progress_hook import ProgressBarHook

__all__ = [
    'DropCheckpointKeysHook', 'ProgressBarHook', 'StripSubmoduleWrapperHook'
]
