"""Infer saliency maps for a dataset split, one grey PNG per image.

    python tools/infer_saliency.py CONFIG CHECKPOINT --out-dir DIR
                                   [--split NAME] [--overwrite]
                                   [--cfg-options k=v ...]
    python -m torch.distributed.run --nproc_per_node N \\
        tools/infer_saliency.py CONFIG CHECKPOINT --out-dir DIR \\
        --launcher pytorch

CONFIG is either a C²AM / C²AM-H config (TTA scales and flip from
``model.test_cfg``, ReLU-summed logits max-normalised, polarity fixed as the
model's ``test_cfg.polarity`` says) or a stock MMSeg segmentor config of the
saliency refinement (``configs/c2am/saliency_refine_*``: softmax probability
of class 1). Files are ``{img_id}.png``, ``round(255 · saliency)`` (format:
:mod:`mmwsss.inference.saliency`). Resumable: images whose file exists are
skipped; writes are atomic; distributed launches shard the images.
"""
import argparse
import os
import sys
from typing import List, Optional

import mmwsss  # noqa: F401  isort:skip
import torch.distributed as dist
from mmengine.config import DictAction
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmwsss.compat import setup_cpu_distributed
from mmwsss.inference.saliency import saliency_path
from mmwsss.models.utils.weights import load_model_checkpoint
from mmwsss.utils.tool_utils import (check_checkpoint, load_config,
                                     pending_indices, select_split)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Infer saliency maps')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', required=True, help='saliency folder')
    parser.add_argument('--split', help='a name in the config\'s data_splits '
                        '(default: the test_dataloader as configured)')
    parser.add_argument('--work-dir', help='logs (default work_dirs/<cfg>)')
    parser.add_argument('--overwrite', action='store_true',
                        help='recompute images whose file exists')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        check_checkpoint(args.checkpoint)
        cfg = load_config(args.config, args.cfg_options, args.work_dir)
        select_split(cfg, args.split)
    except (FileNotFoundError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    cfg.launcher = args.launcher
    init_default_scope(cfg.get('default_scope', 'mmwsss'))

    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.pop('indices', None)
    if not args.overwrite:
        todo, total = pending_indices(
            dataset_cfg.to_dict(),
            lambda img_id: saliency_path(args.out_dir, img_id))
        print_log(f'{total - len(todo)}/{total} images already have '
                  f'saliency maps in {args.out_dir}; {len(todo)} to infer',
                  logger='current')
        if not todo:
            return 0
        dataset_cfg.indices = todo
    # 'mmwsss.' prefixes: stock MMSeg configs keep default_scope='mmseg'
    cfg.test_evaluator = dict(
        type='mmwsss.SaliencyWriter', out_dir=args.out_dir,
        overwrite=args.overwrite)
    cfg.test_cfg = dict(type='TestLoop')
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='mmwsss.ProgressBarHook', desc='saliency inference')]
    # no visualisation writes during inference (MMSeg configs have a hook)
    cfg.default_hooks.pop('visualization', None)
    cfg.load_from = None
    cfg.resume = False

    own_pg = setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    load_model_checkpoint(model, args.checkpoint, 'CHECKPOINT')
    runner.test()
    if own_pg and dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == '__main__':
    sys.exit(main())
