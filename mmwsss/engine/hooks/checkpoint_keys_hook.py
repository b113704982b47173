"""Checkpoint key hygiene for multi-network models."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmwsss.registry import HOOKS


@HOOKS.register_module()
class StripSubmoduleWrapperHook(Hook):
    """Save ``<child>.<param>`` instead of ``<child>.module.<param>``.

    ``MMSeparateDistributedDataParallel`` wraps each sub-network in its own
    DDP module, so its state dict has a ``module.`` infix per child; loading
    unwraps recursively and then matches no key, so a DDP ``--resume``
    silently restores no weight. This hook makes DDP checkpoints identical
    to single-process ones.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        state = checkpoint['state_dict']
        for name, child in model.named_children():
            if not is_model_wrapper(child):
                continue
            prefix = f'{name}.module.'
            for key in [k for k in state if k.startswith(prefix)]:
                state[f'{name}.' + key[len(prefix):]] = state.pop(key)
