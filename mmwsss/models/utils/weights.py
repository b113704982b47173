"""Loading ImageNet weights into a backbone from a local file.

Accepts plain state dicts and the usual wrappers (``state_dict``, ``model``),
strips ``module.``/``backbone.`` prefixes and drops classifier keys (``fc.``,
``head.``, ...), so the official ResNet (torchvision) and ResNeSt (Hang
Zhang's ``resnest269-0cc87c48.pth``, the file P-NOC loads, whose layout timm's
``resnest*`` models share) checkpoints load unchanged.
"""
import os.path as osp
from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint

_WRAPPER_KEYS = ('state_dict', 'model', 'module')
_PREFIXES = ('module.', 'backbone.', 'model.')
_DROP_PREFIXES = ('fc.', 'head.', 'classifier.', 'last_linear.')
#: Where the ImageNet files the configs name come from.
KNOWN_WEIGHTS = {
    'resnest269-0cc87c48.pth':
    'the official ResNeSt-269 ImageNet release (zhanghang1989/ResNeSt, '
    'the file P-NOC loads)',
    'resnest101-22405ba7.pth':
    'the official ResNeSt-101 ImageNet release (zhanghang1989/ResNeSt)',
    'resnet50-19c8e357.pth': "torchvision's ResNet-50 ImageNet weights",
    'resnet101_v1c-e67eebb6.pth':
    "the file behind MMSeg's open-mmlab://resnet101_v1c",
    'vgg16_20M.pth':
    "DeepLab's VGG16 \"20M\" ImageNet init (ICD's vgg16_20M.params) as a "
    'torch state dict with the layer names conv1_1.weight ... fc7.bias',
}


def _unwrap(ckpt: dict) -> Dict[str, torch.Tensor]:
    for key in _WRAPPER_KEYS:
        if isinstance(ckpt, dict) and key in ckpt and isinstance(
                ckpt[key], dict):
            ckpt = ckpt[key]
    return ckpt


def _strip(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix):], True
    return key


def weight_target(backbone: nn.Module) -> nn.Module:
    """The module whose keys match ImageNet checkpoints (timm wrappers keep
    the timm model in ``timm_model``)."""
    return getattr(backbone, 'timm_model', backbone)


def load_backbone_weights(backbone: nn.Module,
                          path: str,
                          config_key: str = 'model.pretrained'
                          ) -> Tuple[list, list]:
    """Load ImageNet weights from ``path`` into ``backbone``.

    Raises:
        FileNotFoundError: the file does not exist (names ``config_key``).
        ValueError: no tensor matches, or shapes differ.

    Returns:
        (missing keys, unexpected keys) after the mapping.
    """
    if not osp.isfile(path):
        source = KNOWN_WEIGHTS.get(osp.basename(path))
        what = f' ({source})' if source else ''
        raise FileNotFoundError(
            f'pretrained weights "{path}"{what} do not exist: put that file '
            f'there, or set --cfg-options {config_key}=PATH (None trains '
            'from scratch); nothing is downloaded')
    state = _unwrap(_load_checkpoint(path, map_location='cpu'))
    state = {
        _strip(k): v
        for k, v in state.items() if not _strip(k).startswith(_DROP_PREFIXES)
    }
    target = weight_target(backbone)
    own = target.state_dict()
    matched = [k for k in state if k in own]
    if not matched:
        raise ValueError(
            f'none of the {len(state)} tensors in "{path}" (config key '
            f'`{config_key}`) match the backbone {type(target).__name__}; '
            'is it a checkpoint of the same architecture?')
    bad = [(k, tuple(state[k].shape), tuple(own[k].shape)) for k in matched
           if state[k].shape != own[k].shape]
    if bad:
        k, got, want = bad[0]
        raise ValueError(f'"{path}" (config key `{config_key}`): {len(bad)} '
                         f'tensors differ in shape, e.g. {k}: {got} vs {want}')
    missing = sorted(set(own) - set(matched))
    unexpected = sorted(set(state) - set(own))
    target.load_state_dict({k: state[k] for k in matched}, strict=False)
    print_log(
        f'loaded {len(matched)}/{len(own)} backbone tensors from {path}'
        + (f'; missing {len(missing)} (e.g. {missing[:3]})' if missing else '')
        + (f'; unused {len(unexpected)} (e.g. {unexpected[:3]})'
           if unexpected else ''),
        logger='current')
    return missing, unexpected


def _clean_model_keys(state: Dict[str, torch.Tensor],
                      own: Dict[str, torch.Tensor]
                      ) -> Dict[str, torch.Tensor]:
    """Drop DDP ``module.`` prefixes and ``<child>.module.`` infixes, except
    where the model itself has the key (an EMA copy keeps its ``module.``,
    e.g. ``generator_ema.module.*``)."""
    out = {}
    for key, value in state.items():
        if key not in own:
            if key.startswith('module.'):
                key = key[len('module.'):]
            parts = key.split('.')
            if key not in own and len(parts) > 2 and parts[1] == 'module':
                key = '.'.join([parts[0]] + parts[2:])
        out[key] = value
    return out


def _sub_network(state: Dict[str, torch.Tensor]
                 ) -> Dict[str, torch.Tensor]:
    """The CAM network of a P-NOC checkpoint: its EMA generator when it
    kept one, else the generator; ``state`` unchanged otherwise."""
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state.items()}
    for prefix in ('generator_ema.module.', 'generator.'):
        sub = {k[len(prefix):]: v for k, v in state.items()
               if k.startswith(prefix)}
        if sub:
            print_log(f'using the "{prefix[:-1]}" tensors of the checkpoint',
                      logger='current')
            return sub
    return state


def _plain_keys(model: nn.Module) -> Dict[str, str]:
    """Wrapper-free state-dict key -> ``model``'s own key.

    Children wrapped in DDP on their own (``MMSeparateDistributedDataParallel``
    under ``--launcher pytorch``) add a ``<child>.module.`` infix to the
    model's keys, which checkpoints do not have (see
    ``StripSubmoduleWrapperHook``). Identity for unwrapped models.
    """
    wrapped = [
        name for name, mod in model.named_modules()
        if name and is_model_wrapper(mod)
    ]
    keys = {}
    for key in model.state_dict():
        plain = key
        for name in wrapped:
            if plain.startswith(f'{name}.module.'):
                plain = f'{name}.' + plain[len(name) + len('.module.'):]
        keys[plain] = key
    return keys


def load_model_checkpoint(model: nn.Module,
                          path: str,
                          config_key: str = 'checkpoint',
                          required_prefixes: Tuple[str, ...] = ('', ),
                          strict: bool = False) -> None:
    """Load an mmwsss training checkpoint into ``model``.

    Every model tensor whose name starts with one of ``required_prefixes``
    must be present (the others, e.g. a dropped noc, may be missing). A
    P-NOC checkpoint loads into a plain CAM classifier (its generator, or
    the generator's EMA when the run kept one). ``model`` may be a DDP
    wrapper or have DDP-wrapped children.

    Args:
        strict: also refuse checkpoint tensors the model does not have
            (otherwise they are logged and left out).

    Raises:
        FileNotFoundError: names ``config_key``.
        KeyError: required tensors are missing, no tensor matches, or (with
            ``strict``) tensors are left over; names the file and examples.
        ValueError: shapes differ.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'checkpoint "{path}" (`{config_key}`) does not exist; train the '
            'prerequisite stage first or fix the path')
    if is_model_wrapper(model):
        model = model.module
    names = _plain_keys(model)
    own_state = model.state_dict()
    own = {plain: own_state[key] for plain, key in names.items()}
    raw = _unwrap(_load_checkpoint(path, map_location='cpu'))
    state = _clean_model_keys(raw, own)
    if not any(k in own for k in state):
        state = _clean_model_keys(_sub_network(raw), own)
    missing = [
        k for k in own if k not in state and k.startswith(required_prefixes)
    ]
    unused = [k for k in state if k not in own]
    if missing or not any(k in own for k in state):
        raise KeyError(
            f'checkpoint "{path}" (`{config_key}`) does not fit '
            f'{type(model).__name__}: {len(missing)} tensors missing, e.g. '
            f'{missing[:3]}; is it a checkpoint of this config?')
    if strict and unused:
        raise KeyError(
            f'checkpoint "{path}" (`{config_key}`) does not fit '
            f'{type(model).__name__}: {len(unused)} of its tensors have no '
            f'place in the model, e.g. {unused[:3]}; is it a checkpoint of '
            'this config?')
    bad = [k for k in state if k in own and state[k].shape != own[k].shape]
    if bad:
        raise ValueError(f'checkpoint "{path}" (`{config_key}`): shape '
                         f'mismatch for {bad[:3]}')
    model.load_state_dict(
        {names[k]: v for k, v in state.items() if k in own}, strict=False)
    print_log(
        f'loaded {path} into {type(model).__name__}'
        + (f' ({len(unused)} unused tensors, e.g. {unused[:2]})'
           if unused else ''), logger='current')
