"""The one checkpoint loader behind every weight key of mmwsss.

Configs name checkpoint files under several keys — ImageNet weights of a
backbone (``model.pretrained``, ``model.generator.pretrained``, with
``model.pretrained_prefix`` for AffinityNet), a trained classifier to start
from (``model.noc_checkpoint`` / ``model.oc_checkpoint``,
``model.init_checkpoint``) — and the tools and :func:`mmwsss.apis.init_model`
take a CHECKPOINT argument (``tools/sam_refine.py`` a SAM checkpoint). All
of them load through :func:`load_weights`, which

1. refuses a missing file naming the config key (and, for the ImageNet files
   the configs name, where the file comes from: :data:`KNOWN_WEIGHTS`);
2. reads it (through mmengine's ``CheckpointLoader``, or, for third-party
   files of plain tensors, ``torch.load(weights_only=True)``) and unwraps
   the usual containers (``state_dict``, ``model``, ``module``);
3. keeps the tensors under ``prefix`` with the prefix stripped, as mmengine's
   ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)`` does;
4. maps key names with a ``key_map``: :func:`imagenet_keys` (classification
   checkpoints into a backbone) or :func:`mmwsss_keys` (mmwsss training
   checkpoints, DDP prefixes, a P-NOC checkpoint into a plain classifier);
5. checks the tensors against the module — at least one matches, the
   ``required`` ones are all there, shapes agree, and with ``strict`` none is
   left over — raising :class:`~mmwsss.utils.errors.CheckpointError` naming
   the file and key;
6. loads non-strictly and logs what was loaded, missing and left over.

mmengine's own ``Pretrained`` initialiser is not used: it maps no keys, has
no config key to name, and would be a second loading path.
"""
import os.path as osp
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import CheckpointLoader

from mmwsss.registry import MODELS
from mmwsss.utils.errors import CheckpointError

StateDict = Dict[str, torch.Tensor]
#: ``(checkpoint tensors, the module's tensors) -> renamed checkpoint
#: tensors``; keys are those of the module's ``state_dict`` without DDP
#: wrappers.
KeyMap = Callable[[StateDict, Mapping[str, torch.Tensor]], StateDict]

_WRAPPER_KEYS = ('state_dict', 'model', 'module')
_IMAGENET_PREFIXES = ('module.', 'backbone.', 'model.')
_IMAGENET_DROP = ('fc.', 'head.', 'classifier.', 'last_linear.')
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
#: What to do about a missing file given by a config key (``{key}``).
CONFIG_HINT = ('put that file there, or set --cfg-options {key}=PATH (None '
               'trains from scratch); nothing is downloaded')
#: What to do about a missing checkpoint of an earlier stage.
STAGE_HINT = 'train the prerequisite stage first or fix the path'


class LoadedKeys(NamedTuple):
    """What :func:`load_weights` did, in the module's key names."""
    loaded: List[str]
    missing: List[str]  #: module tensors the checkpoint did not set
    unexpected: List[str]  #: checkpoint tensors the module has no place for


def weight_target(backbone: nn.Module) -> nn.Module:
    """The module whose keys match ImageNet checkpoints (timm wrappers keep
    the timm model in ``timm_model``)."""
    return getattr(backbone, 'timm_model', backbone)


def read_checkpoint(path: str,
                    config_key: str,
                    hint: str = STAGE_HINT,
                    weights_only: bool = False) -> StateDict:
    """The tensors of the checkpoint file ``path``, out of their container.

    Args:
        weights_only: read with ``torch.load(weights_only=True)``, which
            refuses pickled objects: for third-party files of plain tensors
            (SAM). Otherwise mmengine's ``CheckpointLoader`` reads it (mmwsss
            and mmengine checkpoints pickle more, see :mod:`mmwsss.compat`).

    Raises:
        FileNotFoundError: no such file; names ``config_key``, the file's
            origin when it is in :data:`KNOWN_WEIGHTS`, and ``hint``.
    """
    if not osp.isfile(path):
        source = KNOWN_WEIGHTS.get(osp.basename(path))
        origin = f', {source}' if source else ''
        raise FileNotFoundError(
            f'checkpoint "{path}" (`{config_key}`{origin}) does not exist: '
            f'{hint.format(key=config_key)}')
    if weights_only:
        state = torch.load(path, map_location='cpu', weights_only=True)
    else:
        state = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    for key in _WRAPPER_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    return state


def select_prefix(state: StateDict, prefix: str) -> StateDict:
    """The tensors under ``prefix`` (a ``.`` is added when it lacks one, as
    mmengine does), the prefix stripped."""
    if not prefix.endswith('.'):
        prefix += '.'
    return {
        k[len(prefix):]: v
        for k, v in state.items() if k.startswith(prefix)
    }


def _strip_imagenet_prefixes(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _IMAGENET_PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix):], True
    return key


def imagenet_keys(state: StateDict,
                  own: Mapping[str, torch.Tensor]) -> StateDict:
    """Key map of classification checkpoints into a backbone: strips
    ``module.`` / ``backbone.`` / ``model.`` prefixes and drops the
    classifier (``fc.``, ``head.``, ...), so the official ResNet
    (torchvision), ResNeSt (``resnest269-0cc87c48.pth``, whose layout timm's
    ``resnest*`` models share) and mmwsss CAM checkpoints load unchanged."""
    out = {}
    for key, value in state.items():
        key = _strip_imagenet_prefixes(key)
        if not key.startswith(_IMAGENET_DROP):
            out[key] = value
    return out


def _drop_ddp_keys(state: StateDict,
                   own: Mapping[str, torch.Tensor]) -> StateDict:
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


def _cam_network(state: StateDict) -> StateDict:
    """The CAM network of a P-NOC checkpoint: its EMA generator when it
    kept one, else the generator; ``state`` unchanged otherwise."""
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state.items()}
    for prefix in ('generator_ema.module.', 'generator.'):
        sub = select_prefix(state, prefix)
        if sub:
            print_log(f'using the "{prefix[:-1]}" tensors of the checkpoint',
                      logger='current')
            return sub
    return state


def mmwsss_keys(state: StateDict,
                own: Mapping[str, torch.Tensor]) -> StateDict:
    """Key map of mmwsss training checkpoints: DDP prefixes dropped, and a
    P-NOC checkpoint fits a plain CAM classifier (its generator, or the
    generator's EMA when the run kept one)."""
    out = _drop_ddp_keys(state, own)
    if not any(k in own for k in out):
        out = _drop_ddp_keys(_cam_network(state), own)
    return out


def _plain_keys(module: nn.Module) -> Dict[str, str]:
    """Wrapper-free state-dict key -> ``module``'s own key.

    Children wrapped in DDP on their own (``MMSeparateDistributedDataParallel``
    under ``--launcher pytorch``) add a ``<child>.module.`` infix to the
    model's keys, which checkpoints do not have (see
    ``StripSubmoduleWrapperHook``). Identity for unwrapped models.
    """
    wrapped = [
        name for name, mod in module.named_modules()
        if name and is_model_wrapper(mod)
    ]
    keys = {}
    for key in module.state_dict():
        plain = key
        for name in wrapped:
            if plain.startswith(f'{name}.module.'):
                plain = f'{name}.' + plain[len(name) + len('.module.'):]
        keys[plain] = key
    return keys


def load_weights(module: nn.Module,
                 path: str,
                 config_key: str,
                 prefix: Optional[str] = None,
                 key_map: Optional[KeyMap] = None,
                 required: Tuple[str, ...] = ('', ),
                 strict: bool = False,
                 hint: str = STAGE_HINT,
                 prefix_key: Optional[str] = None,
                 weights_only: bool = False) -> LoadedKeys:
    """Load the checkpoint file ``path`` into ``module`` (the steps are in
    the module docstring).

    Args:
        module: the model or sub-module; a DDP wrapper and DDP-wrapped
            children are looked through.
        config_key: the config key (or tool argument) that gave ``path``,
            named in every error.
        prefix: keep only the tensors under this prefix, stripped (e.g.
            ``'generator.backbone.'``); None keeps all.
        key_map: renames the checkpoint's keys to the module's; None keeps
            them.
        required: module tensors whose names start with one of these must
            all be in the checkpoint (``('',)``: every tensor; ``()``:
            none, but at least one tensor must match).
        strict: also refuse checkpoint tensors the module has no place for
            (otherwise they are logged and left out).
        hint: what to do about a missing file (``{key}`` is
            ``config_key``).
        prefix_key: the config key that gave ``prefix``, named in errors.
        weights_only: see :func:`read_checkpoint`.

    Returns:
        The loaded, missing and left-over keys.

    Raises:
        FileNotFoundError: no such file (names ``config_key``).
        CheckpointError: nothing matches, required tensors are missing,
            shapes differ, or (``strict``) tensors are left over.
    """
    state = read_checkpoint(path, config_key, hint, weights_only)
    if is_model_wrapper(module):
        module = module.module
    names = _plain_keys(module)
    own_state = module.state_dict()
    own = {plain: own_state[key] for plain, key in names.items()}
    source = f'`{config_key}`'
    if prefix:
        source += (f', `{prefix_key}`={prefix!r}' if prefix_key else
                   f', prefix {prefix!r}')
    where = f'"{path}" ({source})'
    total = len(state)
    if prefix:
        state = select_prefix(state, prefix)
    if key_map is not None:
        state = key_map(state, own)
    name = type(module).__name__
    loaded = [k for k in state if k in own]
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if not loaded:
        raise CheckpointError(
            f'none of the {total} tensors in {where} match {name}; is it a '
            'checkpoint of this architecture'
            + (', and is the prefix right?' if prefix else '?'))
    absent = [k for k in missing if k.startswith(required)]
    if absent:
        raise CheckpointError(
            f'checkpoint {where} does not fit {name}: {len(absent)} tensors '
            f'missing, e.g. {absent[:3]}; is it a checkpoint of this config'
            + (', and is the prefix right?' if prefix else '?'))
    if strict and unexpected:
        raise CheckpointError(
            f'checkpoint {where} does not fit {name}: {len(unexpected)} of '
            f'its tensors have no place in the model, e.g. {unexpected[:3]}; '
            'is it a checkpoint of this config?')
    bad = [(k, tuple(state[k].shape), tuple(own[k].shape)) for k in loaded
           if state[k].shape != own[k].shape]
    if bad:
        k, got, want = bad[0]
        raise CheckpointError(
            f'checkpoint {where}: {len(bad)} tensors differ in shape from '
            f'{name}, e.g. {k}: {got} vs {want}')
    module.load_state_dict({names[k]: state[k] for k in loaded}, strict=False)
    print_log(
        f'loaded {path} into {name} ({source}): {len(loaded)}/{len(own)} '
        'tensors'
        + (f'; missing {len(missing)} (e.g. {missing[:3]})' if missing else '')
        + (f'; unused {len(unexpected)} (e.g. {unexpected[:3]})'
           if unexpected else ''),
        logger='current')
    return LoadedKeys(loaded, missing, unexpected)


class PretrainedBackboneMixin:
    """A model with a ``backbone`` that its ``pretrained`` file initialises
    (CAMClassifier, C2AM, AffinityNet), before ``BaseModel`` in the bases:
    it builds the backbone, and ``init_weights`` runs mmengine's
    initialisation, then :func:`load_backbone_weights`.

    Args:
        backbone: the backbone config.
        pretrained: the weights file, or None.
        pretrained_prefix: selects the backbone's tensors of a full
            checkpoint (AffinityNet; its key is ``pretrained_key +
            '_prefix'``); None: an ImageNet-style file.
        **kwargs: ``BaseModel`` arguments.

    ``pretrained_key`` is the config key named in errors; a parent model
    sets where the model sits (P-NOC: ``model.generator.pretrained``).
    """
    pretrained_key: str = 'model.pretrained'

    def __init__(self,
                 backbone: dict,
                 pretrained: Optional[str] = None,
                 pretrained_prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)  # type: ignore[call-arg]
        self.backbone = MODELS.build(backbone)
        self.pretrained = pretrained
        self.pretrained_prefix = pretrained_prefix

    def init_weights(self) -> None:
        super().init_weights()  # type: ignore[misc]
        if self.pretrained:
            load_backbone_weights(self.backbone, self.pretrained,
                                  self.pretrained_key, self.pretrained_prefix,
                                  f'{self.pretrained_key}_prefix')


def load_backbone_weights(backbone: nn.Module,
                          path: str,
                          config_key: str = 'model.pretrained',
                          prefix: Optional[str] = None,
                          prefix_key: Optional[str] = None) -> LoadedKeys:
    """The ``pretrained`` weights of a model's backbone.

    Without ``prefix``, an ImageNet (or any classification) checkpoint
    through :func:`imagenet_keys`, into the timm model of a timm wrapper;
    tensors may be missing. With ``prefix``, the tensors of a full mmwsss
    checkpoint under it (``'generator.backbone.'``), which must cover the
    whole backbone.
    """
    if prefix is None:
        return load_weights(weight_target(backbone), path, config_key,
                            key_map=imagenet_keys, required=(),
                            hint=CONFIG_HINT)
    return load_weights(backbone, path, config_key, prefix=prefix,
                        hint=CONFIG_HINT, prefix_key=prefix_key)
