"""Building an mmwsss model for inference from a config (and checkpoint)."""
import copy
import os
import os.path as osp
from pathlib import Path
from typing import Optional, Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmwsss.apis.tool_utils import load_inference_weights
from mmwsss.registry import MODELS


def load_model_config(config: Union[str, Path, Config],
                      cfg_options: Optional[dict] = None) -> Config:
    """A copy of ``config`` (a file or a :class:`Config`) with
    ``cfg_options`` merged in; the caller's Config is left untouched.

    Raises:
        FileNotFoundError: no such config file.
        TypeError: neither a path nor a Config.
        KeyError: the config has no ``model``.
    """
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        if not osp.isfile(path):
            raise FileNotFoundError(f'config file "{path}" does not exist')
        cfg = Config.fromfile(path)
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError('config must be a file path or an mmengine Config, '
                        f'got {type(config).__name__}')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if not cfg.get('model'):
        raise KeyError(f'the config {getattr(cfg, "filename", "")} has no '
                       '`model`')
    return cfg


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the model of ``config`` for inference.

    The checkpoint is loaded as ``tools/infer_cams.py`` and ``tools/test.py``
    load it (:func:`~mmwsss.apis.tool_utils.load_inference_weights`): a
    P-NOC checkpoint also fits a plain CAM config (its generator, or its
    EMA), and a P-NOC model needs only its generator tensors. Without a
    checkpoint the weights are the constructors' random ones:
    ``init_weights`` is not called, so neither ImageNet weights
    (``pretrained``) nor a noc checkpoint are read.

    Args:
        config: config file or :class:`Config` (its ``default_scope``,
            ``'mmwsss'`` when unset, resolves the model's types).
        checkpoint: an mmwsss checkpoint, or None.
        device: e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options: overrides merged into the config, e.g.
            ``{'model.test_cfg.scales': [1.0]}``.

    Returns:
        The model in eval mode on ``device``, with the config it was built
        from as ``model.cfg``.

    Raises:
        FileNotFoundError: the config or the checkpoint does not exist.
        CheckpointError: the checkpoint does not fit the model, or tensor
            shapes differ (names examples; a ``KeyError`` and a
            ``ValueError``).
    """
    cfg = load_model_config(config, cfg_options)
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmwsss')):
        model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_inference_weights(model, checkpoint, config_key='checkpoint')
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model
