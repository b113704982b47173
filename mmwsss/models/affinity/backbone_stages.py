"""The five stage features of a ResNet-style backbone, whatever its library.

AffinityNet needs the stem output *after* the max-pool (stride 4) and the
outputs of ``layer1`` .. ``layer4`` (README: random walk, the paper-era 5-stage
semantics). Backbones expose them differently: mmpretrain/mmseg ``ResNet``
and ``ResNeSt`` return only ``out_indices`` of the residual layers, and timm's
``features_only`` models (through mmseg's ``TIMMBackbone``) return the stem
*before* the max-pool as feature 0. All of them, however, are built from
modules named ``maxpool`` and ``layer1`` .. ``layer4`` that run in that order,
so :func:`resnet_stages` records those modules' outputs during one ordinary
forward pass (forward hooks, removed again before returning). The backbone's
own ``out_indices`` do not matter, as long as its forward reaches ``layer4``.
"""
from typing import Dict, Tuple

import torch
import torch.nn as nn

from mmwsss.models.utils.checkpoint import weight_target

#: Module names whose outputs are the 5 stages, in order.
STAGE_MODULES = ('maxpool', 'layer1', 'layer2', 'layer3', 'layer4')


def stage_modules(backbone: nn.Module) -> Tuple[nn.Module, ...]:
    """The ``maxpool``, ``layer1`` .. ``layer4`` modules of ``backbone`` (or
    of the timm model inside an mmseg ``TIMMBackbone``).

    Raises:
        TypeError: the backbone is not ResNet-style.
    """
    root = weight_target(backbone)
    mods = [getattr(root, name, None) for name in STAGE_MODULES]
    missing = [n for n, m in zip(STAGE_MODULES, mods)
               if not isinstance(m, nn.Module)]
    if missing:
        raise TypeError(
            f'{type(backbone).__name__} has no sub-module(s) {missing}: '
            'AffinityNet needs a ResNet-style backbone (mmpretrain/mmseg '
            'ResNet or ResNeSt, or a timm resnet*/resnest* through mmseg '
            'TIMMBackbone) whose stem ends with `maxpool`, followed by '
            '`layer1`..`layer4`')
    return tuple(mods)


def resnet_stages(backbone: nn.Module,
                  inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """``(stem, layer1, layer2, layer3, layer4)`` features of ``inputs``.

    ``stem`` is the max-pool output (stride 4); the backbone's forward runs
    once, with its current grad mode.
    """
    feats: Dict[str, torch.Tensor] = {}

    def recorder(name: str):

        def hook(module: nn.Module, args, output: torch.Tensor) -> None:
            feats[name] = output

        return hook

    handles = [
        mod.register_forward_hook(recorder(name))
        for name, mod in zip(STAGE_MODULES, stage_modules(backbone))
    ]
    try:
        backbone(inputs)
    finally:
        for handle in handles:
            handle.remove()
    missing = [n for n in STAGE_MODULES if n not in feats]
    if missing:
        raise RuntimeError(
            f'{type(backbone).__name__}.forward did not run {missing}; for '
            'a timm features_only backbone set out_indices to include the '
            'last stage (e.g. (4,))')
    return tuple(feats[n] for n in STAGE_MODULES)
