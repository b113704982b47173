"""Test (evaluate) a checkpoint, MMSeg-style.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
                         [--show-dir DIR] [--tta] [--crf]
                         [--crf-preset deeplab_v2] [--crf-gt-prob 1.0]
                         [--crf-backend pydensecrf|torch]
                         [--cfg-options ...]

``--crf`` refines the (TTA-averaged) softmax with a dense CRF before the
argmax (:class:`mmwsss.models.segmentors.CRFSegTTAModel`; DeepLab-v2
parameters by default, the reference's final-stage post-processing).
The checkpoint must fit the config exactly: missing or unexpected tensors
stop with one error line (a P-NOC checkpoint fits a CAM config: its
generator is used, as in ``tools/infer_cams.py``).
"""
import argparse
import json
import numbers
import os
import sys

import mmwsss  # noqa: F401  isort:skip
import numpy as np
from mmengine.runner import Runner

from mmwsss.apis.tool_utils import (add_cfg_options, add_crf_options,
                                    check_checkpoint, crf_from_args,
                                    load_config, load_inference_weights,
                                    report_error)
from mmwsss.compat import setup_cpu_distributed, teardown_distributed
from mmwsss.registry import RUNNERS
from mmwsss.utils import register_all_modules
from mmwsss.utils.errors import USER_ERRORS, ConfigError


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
    add_crf_options(
        parser, reference='preset deeplab_v2, --crf-gt-prob 1.0: the '
        "reference's final step refines the segmentor's softmax, taken as "
        "it is, with DeepLab-v2's CRF parameters",
        preset='deeplab_v2', gt_prob=1.0)
    add_cfg_options(parser)
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def single_aug_pipeline(pipeline: list) -> list:
    """A test pipeline as a one-augmentation TTA pipeline (for --crf
    without --tta): the loading step, then every other transform in
    ``TestTimeAug``."""
    return [
        pipeline[0],
        dict(type='TestTimeAug', transforms=[[t] for t in pipeline[1:]])
    ]


def use_tta_model(cfg, args: argparse.Namespace) -> None:
    """Wrap ``cfg.model`` in the TTA model (--tta) and/or the CRF
    post-processor (--crf)."""
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise ConfigError('--tta needs `tta_model` and `tta_pipeline` in '
                           'the config')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        tta_model = dict(cfg.tta_model)
    else:
        cfg.test_dataloader.dataset.pipeline = single_aug_pipeline(
            cfg.test_dataloader.dataset.pipeline)
        tta_model = dict(type='SegTTAModel')
    if args.crf:
        tta_model.update(
            type='mmwsss.CRFSegTTAModel', crf=crf_from_args(args),
            gt_prob=args.crf_gt_prob)
    tta_model['module'] = cfg.model
    cfg.model = tta_model


def main() -> int:
    args = parse_args()
    try:
        check_checkpoint(args.checkpoint)
        cfg = load_config(args.config, args.cfg_options, args.work_dir)
        if args.show_dir:
            hooks = cfg.default_hooks
            if 'visualization' not in hooks:
                raise ConfigError(
                    '--show-dir needs a `visualization` hook in '
                    'default_hooks (e.g. SegVisualizationHook)')
            hooks.visualization.draw = True
            hooks.visualization.wait_time = args.wait_time
            cfg.visualizer.save_dir = args.show_dir
        if args.tta or args.crf:
            use_tta_model(cfg, args)
    except (KeyError, *USER_ERRORS) as err:
        return report_error(err)
    cfg.launcher = args.launcher
    # loaded below, strictly: mmengine's load_from warns about missing and
    # unexpected keys and evaluates whatever it got
    cfg.load_from = None
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True

    own_pg = setup_cpu_distributed(cfg, args.launcher)
    register_all_modules(init_default_scope=False)
    try:
        # runner_type: e.g. the pseudo-mask data configs' PseudoMaskRunner
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else \
            RUNNERS.build(cfg)
        load_inference_weights(runner.model, args.checkpoint, strict=True)
    except (KeyError, *USER_ERRORS) as err:
        teardown_distributed(own_pg)
        return report_error(err)
    try:
        metrics = runner.test()
    except USER_ERRORS as err:
        teardown_distributed(own_pg)
        return report_error(err)
    if runner.rank == 0:
        # last line: a JSON summary for scripts (tools/run_pipeline.py)
        print(json.dumps({k: float(v) for k, v in (metrics or {}).items()
                          if isinstance(v, (numbers.Number, np.generic))}))
    teardown_distributed(own_pg)
    return 0


if __name__ == '__main__':
    sys.exit(main())
