"""Test (evaluate) a checkpoint, MMSeg-style.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
                         [--show-dir DIR] [--tta] [--cfg-options ...]
"""
import argparse
import os
import os.path as osp

import mmwsss  # noqa: F401  isort:skip
import torch.distributed as dist
from mmengine.config import DictAction
from mmengine.runner import Runner

from mmwsss.compat import setup_cpu_distributed
from mmwsss.utils import register_all_modules
from mmwsss.utils.tool_utils import check_checkpoint, load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir', help='folder of the evaluation logs')
    parser.add_argument('--out', help='save predictions (IoUMetric '
                        'output_dir) to this folder')
    parser.add_argument('--show-dir', help='save drawn predictions here')
    parser.add_argument('--wait-time', type=float, default=2)
    parser.add_argument('--tta', action='store_true',
                        help='use the config\'s tta_model / tta_pipeline')
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
    cfg.load_from = args.checkpoint
    if args.show_dir:
        hooks = cfg.default_hooks
        if 'visualization' not in hooks:
            raise KeyError('--show-dir needs a `visualization` hook in '
                           'default_hooks (e.g. SegVisualizationHook)')
        hooks.visualization.draw = True
        hooks.visualization.wait_time = args.wait_time
        cfg.visualizer.save_dir = args.show_dir
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise KeyError('--tta needs `tta_model` and `tta_pipeline` in '
                           'the config')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True

    own_pg = setup_cpu_distributed(cfg, args.launcher)
    register_all_modules(init_default_scope=False)
    runner = Runner.from_cfg(cfg)
    runner.test()
    if own_pg and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
