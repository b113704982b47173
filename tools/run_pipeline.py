"""Run a whole WSSS pipeline, stage by stage, resumably.

    python tools/run_pipeline.py configs/pipelines/pnoc_voc.py \\
        --data-root data/VOCdevkit/VOC2012 --work-dir work_dirs/pnoc_voc \\
        [--gpus 8] [--from STAGE | --only STAGE ...] [--dry-run] [--list]

Stages run in order (``--list`` shows them); each is skipped when its
completion marker exists (``{work_dir}/.stages/{stage}.json``), so a rerun
continues after the last finished stage; ``--from STAGE`` reruns from a
stage on. The first failure stops the run with a message naming the stage
and command; a stage whose tools are not in this version says so. Metrics
of every evaluation go to ``{work_dir}/metrics/*.json``.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmwsss.pipeline import PipelineError, StageRunner, pipeline_class  # noqa


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='run a WSSS pipeline')
    parser.add_argument('config', help='pipeline config (configs/pipelines)')
    parser.add_argument('--data-root', help='data set root (default: the '
                        "pipeline config's data_root)")
    parser.add_argument('--work-dir', help='outputs (default work_dirs/'
                        '<config name>)')
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per training/inference command')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--from', dest='start', metavar='STAGE',
                       help='(re)run from this stage on')
    group.add_argument('--only', nargs='+', metavar='STAGE',
                       help='(re)run only these stages')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands, run nothing')
    parser.add_argument('--list', action='store_true',
                        help='list the stages and their state')
    return parser.parse_args(argv)


def build(args: argparse.Namespace):
    cfg = Config.fromfile(args.config)
    work = osp.abspath(args.work_dir or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0]))
    pipeline = pipeline_class(cfg.get('pipeline_type', 'PNOCPipeline'))(
        cfg, ROOT, work, data_root=args.data_root, gpus=args.gpus,
        python=sys.executable)
    runner = StageRunner(ROOT, work, dry_run=args.dry_run)
    return pipeline, runner


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        print(f'error: pipeline config not found: {args.config}',
              file=sys.stderr)
        return 1
    pipeline, runner = build(args)
    stages = pipeline.stages()
    if args.list:
        for stage in stages:
            state = 'done' if runner.is_done(stage) else 'todo'
            print(f'{stage.name:<16} {state:<5} {stage.title}')
        return 0
    try:
        runner.run(stages, start=args.start, only=args.only)
    except PipelineError as err:
        print(f'\npipeline stopped: {err}', file=sys.stderr)
        return 1
    print(f'\npipeline finished; metrics in {runner.work_dir}/metrics')
    return 0


if __name__ == '__main__':
    sys.exit(main())
