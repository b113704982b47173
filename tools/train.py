"""Train a model from an mmwsss (or stock MMSeg) config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|CKPT]]
                          [--amp] [--cfg-options k=v ...] [--launcher ...]

Same flags as MMSeg's ``tools/train.py``, plus ``--resume CKPT`` and an
``--amp`` that also converts multi-optimizer (``OptimWrapperDict``) configs.
Param schedulers follow the train length: one with ``end=None`` ends with
``train_cfg.max_epochs`` / ``max_iters``, and changing the length with
``--cfg-options`` while a scheduler keeps the config's own ``end`` is
refused, naming the keys to set. Errors in the config, the options or the
data stop with one ``error:`` line (exit status 1).
"""
import argparse
import os
import sys

# mmwsss first: registers the checkpoint loader before any config is read.
import mmwsss  # noqa: F401  isort:skip
from mmengine.runner import Runner

from mmwsss.apis.tool_utils import (add_cfg_options, enable_amp,
                                    load_config, report_error)
from mmwsss.compat import setup_cpu_distributed, teardown_distributed
from mmwsss.registry import RUNNERS
from mmwsss.utils import register_all_modules
from mmwsss.utils.errors import USER_ERRORS


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        default=None,
        help='resume from CKPT, or from the latest checkpoint in the work '
        'dir when no path is given')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic mixed precision training (CUDA)')
    add_cfg_options(parser)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local_rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> int:
    args = parse_args()
    try:
        cfg = load_config(args.config, args.cfg_options, args.work_dir,
                          training=True)
        if args.amp:
            enable_amp(cfg)
    except USER_ERRORS as err:
        return report_error(err)
    cfg.launcher = args.launcher
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume

    own_pg = setup_cpu_distributed(cfg, args.launcher)
    register_all_modules(init_default_scope=False)
    try:
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else \
            RUNNERS.build(cfg)
        runner.train()
    except USER_ERRORS as err:
        teardown_distributed(own_pg)
        return report_error(err)
    teardown_distributed(own_pg)
    return 0


if __name__ == '__main__':
    sys.exit(main())
