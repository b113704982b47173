"""Parameter groups of the reference CAM recipes (README: recipes).

Four groups: pretrained weights (lr, wd), pretrained non-weights — biases and
BN β — (``bias_lr_mult``·lr, no decay), from-scratch weights
(``scratch_lr_mult``·lr, wd) and from-scratch non-weights
(``scratch_lr_mult``·``bias_lr_mult``·lr, no decay). "Pretrained" means a
parameter whose name starts with one of ``pretrained_prefixes``
(the backbone by default); only trainable parameters are included.
"""
from typing import List, Optional, Sequence

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper

from mmwsss.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                             OPTIMIZERS)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class PretrainedScratchOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Optimizer wrapper constructor with the reference's 4 param groups.

    ``paramwise_cfg`` keys (all optional):
        pretrained_prefixes (Sequence[str]): default ``('backbone.',)``.
        scratch_lr_mult (float): default 10.
        bias_lr_mult (float): default 2.
        bias_decay_mult (float): default 0.
    """

    KEYS = ('pretrained_prefixes', 'scratch_lr_mult', 'bias_lr_mult',
            'bias_decay_mult')

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = set(paramwise_cfg) - set(self.KEYS)
        if unknown:
            raise KeyError(f'unknown paramwise_cfg keys {sorted(unknown)} for '
                           f'{type(self).__name__}; valid: {list(self.KEYS)}')
        self.pretrained_prefixes: Sequence[str] = tuple(
            paramwise_cfg.get('pretrained_prefixes', ('backbone.', )))
        self.scratch_lr_mult = float(paramwise_cfg.get('scratch_lr_mult', 10))
        self.bias_lr_mult = float(paramwise_cfg.get('bias_lr_mult', 2))
        self.bias_decay_mult = float(paramwise_cfg.get('bias_decay_mult', 0))
        super().__init__(optim_wrapper_cfg, paramwise_cfg=None)

    def param_groups(self, model: nn.Module) -> List[dict]:
        """The four groups (empty ones dropped), with named parameters."""
        lr = self.base_lr
        wd = self.base_wd or 0.0
        groups = {}
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            pretrained = name.startswith(self.pretrained_prefixes)
            is_weight = 'weight' in name.rsplit('.', 1)[-1]
            key = (pretrained, is_weight)
            if key not in groups:
                g_lr = lr * (1.0 if pretrained else self.scratch_lr_mult)
                g_wd = wd
                if not is_weight:
                    g_lr *= self.bias_lr_mult
                    g_wd = wd * self.bias_decay_mult
                groups[key] = dict(params=[], lr=g_lr, weight_decay=g_wd)
            groups[key]['params'].append(param)
        order = [(True, True), (True, False), (False, True), (False, False)]
        return [groups[k] for k in order if k in groups]

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if hasattr(model, 'module'):
            model = model.module
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cfg['params'] = self.param_groups(model)
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        return OPTIM_WRAPPERS.build(
            self.optim_wrapper_cfg, default_args=dict(optimizer=optimizer))
