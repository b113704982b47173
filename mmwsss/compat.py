"""Compatibility of the pinned OpenMMLab stack with current torch, through
the extension points the libraries offer (nothing is patched).

1. torch >= 2.6 loads checkpoints with ``weights_only=True`` by default,
   which rejects mmengine's own checkpoints (they pickle ``HistoryBuffer``
   and numpy objects), breaking ``--resume``, ``load_from`` and
   ``init_model``. mmengine's ``CheckpointLoader`` lets a package register the
   loader for local paths: ours calls ``torch.load(weights_only=False)``.
   Only load checkpoints you trust (as with any pickle).
2. ``--launcher pytorch`` on a machine without CUDA: mmengine's
   ``init_dist`` calls ``torch.cuda.set_device`` unconditionally and wraps
   models with ``device_ids=[LOCAL_RANK]``. :func:`setup_cpu_distributed`
   starts a gloo process group first and clears ``device_ids`` (used by
   ``tools/train.py`` / ``tools/test.py`` and the CPU DDP tests).
"""
import os
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.runner.checkpoint import CheckpointLoader


def load_local_checkpoint(filename: str, map_location=None):
    """Load a local checkpoint with ``weights_only=False``."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    return torch.load(
        filename, map_location=map_location, weights_only=False)


def register_checkpoint_loader() -> None:
    """Make ``load_local_checkpoint`` mmengine's loader for local paths."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Start gloo DDP without CUDA for ``--launcher pytorch``.

    Returns True when it initialised the process group (the caller should
    destroy it at the end to avoid gloo's teardown abort).
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return False
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    if wrapper['type'] == 'MMDistributedDataParallel':
        wrapper.setdefault('broadcast_buffers', False)
        wrapper.setdefault('find_unused_parameters',
                           cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    cfg.setdefault('env_cfg', {})
    cfg.env_cfg['dist_cfg'] = dict(backend='gloo')
    os.environ.setdefault('LOCAL_RANK', '0')
    return True


def teardown_distributed(own_pg: bool) -> None:
    """Destroy the process group a tool started (``own_pg``), after a
    barrier: a rank tearing gloo down while another still talks aborts the
    job ("terminate called without an active exception")."""
    if own_pg and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
