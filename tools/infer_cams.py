"""Infer test-time-augmented CAMs for a dataset split, one file per image.

    python tools/infer_cams.py CONFIG CHECKPOINT --out-dir DIR [--split NAME]
                               [--overwrite] [--cfg-options k=v ...]
    bash tools/dist_infer_cams.sh CONFIG CHECKPOINT GPUS --out-dir DIR ...

TTA (scales and flip) come from ``model.test_cfg``; files are
``{img_id}.npz`` (format: :mod:`mmwsss.inference.cam_io`). Resumable: images
whose file exists are skipped; writes are atomic. Distributed launches
shard the images across processes.
"""
import argparse
import os

import mmwsss  # noqa: F401  isort:skip
import torch.distributed as dist
from mmengine.config import DictAction
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmwsss.compat import setup_cpu_distributed
from mmwsss.inference.cam_io import cam_path
from mmwsss.models.utils.weights import load_model_checkpoint
from mmwsss.utils.tool_utils import (check_checkpoint, load_config,
                                     pending_indices, select_split)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Infer TTA CAMs')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', required=True, help='CAM folder')
    parser.add_argument('--split', help='a name in the config\'s data_splits '
                        '(default: the test_dataloader as configured)')
    parser.add_argument('--work-dir', help='logs (default work_dirs/<cfg>)')
    parser.add_argument('--overwrite', action='store_true',
                        help='recompute images whose file exists')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> None:
    args = parse_args()
    check_checkpoint(args.checkpoint)
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    cfg.launcher = args.launcher
    select_split(cfg, args.split)
    init_default_scope(cfg.get('default_scope', 'mmwsss'))

    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.pop('indices', None)
    if args.overwrite:
        todo, total = None, None
    else:
        todo, total = pending_indices(
            dataset_cfg.to_dict(),
            lambda img_id: cam_path(args.out_dir, img_id))
        print_log(f'{total - len(todo)}/{total} images already have CAMs in '
                  f'{args.out_dir}; {len(todo)} to infer', logger='current')
        if not todo:
            return
        dataset_cfg.indices = todo
    cfg.test_evaluator = dict(
        type='CAMWriter', out_dir=args.out_dir, overwrite=args.overwrite)
    cfg.test_cfg = dict(type='TestLoop')
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='ProgressBarHook', desc='CAM inference')]
    cfg.load_from = None
    cfg.resume = False

    own_pg = setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    prefixes = model.inference_prefixes() if hasattr(
        model, 'inference_prefixes') else ('', )
    load_model_checkpoint(model, args.checkpoint, 'CHECKPOINT', prefixes)
    runner.test()
    if own_pg and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
