"""Hooks of mmwsss."""
from .checkpoint_keys_hook import (DropCheckpointKeysHook,
                                   StripSubmoduleWrapperHook)
from .progress_hook import ProgressBarHook
from .seg_label_check_hook import CheckSegLabelsHook, check_mask_labels

__all__ = [
    'CheckSegLabelsHook', 'DropCheckpointKeysHook', 'ProgressBarHook',
    'StripSubmoduleWrapperHook', 'check_mask_labels'
]
