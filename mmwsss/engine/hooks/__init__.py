"""Hooks of mmwsss."""
from .checkpoint_keys_hook import StripSubmoduleWrapperHook
from .ood_batch_hook import OoDBatchHook
from .progress_hook import ProgressBarHook
from .seg_label_check_hook import CheckSegLabelsHook, check_mask_labels

__all__ = [
    'CheckSegLabelsHook', 'OoDBatchHook', 'ProgressBarHook',
    'StripSubmoduleWrapperHook', 'check_mask_labels'
]
