"""Hooks of mmwsss."""
from .checkpoint_keys_hook import StripSubmoduleWrapperHook
from .ood_batch_hook import OoDBatchHook
from .progress_hook import ProgressBarHook
from .seg_label_check_hook import CheckSegLabelsHook, check_mask_labels
from .woods_centres_hook import WOoDCentresHook

__all__ = [
    'CheckSegLabelsHook', 'OoDBatchHook', 'ProgressBarHook',
    'StripSubmoduleWrapperHook', 'WOoDCentresHook', 'check_mask_labels'
]
