"""One optimizer wrapper per sub-network (GAN-style alternating training)."""
from typing import Optional

import torch.nn as nn
from mmengine.optim import OptimWrapperDict

from mmwsss.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiNetOptimWrapperConstructor:
    """Build an ``OptimWrapperDict`` keyed by child-module name.

    ``optim_wrapper = dict(constructor='MultiNetOptimWrapperConstructor',
    generator=dict(type='OptimWrapper', optimizer=..., constructor=...,
    paramwise_cfg=...), noc=dict(...))``: each entry is built by its own
    constructor (default ``PretrainedScratchOptimWrapperConstructor``) over
    ``model.<name>``, so per-network param groups, accumulation and clipping
    all apply. Pair it with a ``param_scheduler`` dict keyed the same way.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg:
            raise ValueError('put paramwise_cfg inside each network entry of '
                             'a multi-network optim_wrapper')
        if not optim_wrapper_cfg:
            raise ValueError('optim_wrapper lists no network')
        self.cfgs = {}
        for name, cfg in optim_wrapper_cfg.items():
            if not isinstance(cfg, dict) or 'optimizer' not in cfg:
                raise KeyError(f'optim_wrapper.{name} must be an optim '
                               'wrapper config with an `optimizer`')
            self.cfgs[name] = dict(cfg)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = getattr(model, 'module', model)
        wrappers = {}
        for name, cfg in self.cfgs.items():
            child = getattr(model, name, None)
            if child is None:
                raise KeyError(f'optim_wrapper.{name}: the model has no '
                               f'sub-network "{name}"')
            child = getattr(child, 'module', child)
            if not any(p.requires_grad for p in child.parameters()):
                raise ValueError(
                    f'optim_wrapper.{name}: model.{name} has no trainable '
                    'parameter (a frozen network, e.g. train_noc=False); '
                    f'remove optim_wrapper.{name} and param_scheduler.'
                    f'{name}, or use a single-optimizer schedule such as '
                    'configs/_base_/schedules/cam_family_15e.py')
            cfg = dict(cfg)
            constructor = cfg.pop(
                'constructor', 'PretrainedScratchOptimWrapperConstructor')
            paramwise = cfg.pop('paramwise_cfg', None)
            builder = OPTIM_WRAPPER_CONSTRUCTORS.build(
                dict(type=constructor, optim_wrapper_cfg=cfg,
                     paramwise_cfg=paramwise))
            wrappers[name] = builder(child)
        return OptimWrapperDict(**wrappers)
