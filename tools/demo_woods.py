"""The W-OoD pipeline on the synthetic set, on CPU, with its controls.

    python tools/demo_woods.py [--work-dir work_dirs/demo_woods]
        [--data-root data/synthetic] [--num-ood 200]
        [--seed 0 --min-size 64 --max-size 96] [--fresh]

The second set of the README: ``--seed 1 --min-size 128 --max-size 192
--data-root data/synthetic_s1 --work-dir work_dirs/demo_woods_s1``.

1. ``tools/generate_synthetic.py`` writes the synthetic set with
   ``--num-ood`` OoD images (a sky or water band, no object) under
   ``DATA/OoD``; the in-distribution images are the main demo's, byte for
   byte;
2. the W-OoD pipeline (``configs/pipelines/woods_synthetic.py``, the
   stages of :class:`~mmwsss.pipeline.WOoDPipeline`): the vanilla
   classifier (20 epochs from scratch), the class and OoD centres
   (``tools/woods_centres.py``), W-OoD fine-tuning (5 epochs, λ = 0.007,
   β = 0.25), TTA CAMs, the IRN-style stage (affinity labels from the CAMs
   alone, AffinityNet, random walk), pseudo-masks, DeepLabV3+ on them and on
   the true masks (the ceiling);
3. the **control** fine-tunes the vanilla classifier the same way with
   λ = β = 0 (same data, OoD batches drawn and ignored, same schedule and
   centres), so a difference between it and W-OoD is W-OoD's, not the extra
   epochs';
4. TTA CAMs of vanilla, control and W-OoD on ``train_aug`` are scored by
   ``tools/eval_cams.py`` on ``train`` (the main demo's CAM protocol) and
   on ``train_aug``: mIoU at the best (oracle) and the fixed (0.25)
   threshold and the per-class precision / IoU of the context classes
   ``kite`` (on sky) and ``boat`` (on water), whose CAMs cover the band.

The tables (the pipeline's stages, then the CAM comparisons) are printed
and saved as ``{work_dir}/results.md``. Finished stages are skipped
(``--fresh`` starts over).
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
import time
from typing import Dict, List, Optional

import mmwsss  # noqa: F401  isort:skip
from mmengine.config import Config

from mmwsss.pipeline import WOoDPipeline
from mmwsss.pipeline.results import load_metrics
from mmwsss.pipeline.results import results_table as stage_table
from mmwsss.pipeline.runner import (Command, PipelineError, Stage,
                                    StageRunner)
from mmwsss.synthetic import add_demo_set_arguments, demo_set_argv
from mmwsss.utils import atomic_path

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PIPELINE_CONFIG = 'configs/pipelines/woods_synthetic.py'
CAM_CONFIG = 'configs/cam/cam_tiny_synthetic.py'
WOODS_CONFIG = 'configs/woods/woods_tiny_synthetic.py'
CONTEXT = ('kite', 'boat')  # the classes whose CAMs cover sky / water
MODELS = (('vanilla', 'vanilla classifier (stage 0)'),
          ('control', 'control: +5 epochs, λ = β = 0'),
          ('woods', 'W-OoD: +5 epochs, λ = 0.007, β = 0.25'))
SPLITS = ('train', 'train_aug')


class WOoDDemo:
    """The demo's stages: the W-OoD pipeline's, with the centres computed
    once (W-OoD and the control use the same file), the control run and
    the CAM comparisons."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.py = sys.executable
        self.work = args.work_dir
        self.data = args.data_root
        cfg = Config.fromfile(osp.join(ROOT, PIPELINE_CONFIG))
        cfg.stages.woods.options = {
            'custom_hooks.1.centres_file': self.centres()}
        self.pipeline = WOoDPipeline(cfg, ROOT, osp.join(ROOT, self.work),
                                     data_root=self.data, python=self.py)

    def path(self, *parts: str) -> str:
        return osp.join(self.work, *parts)

    def centres(self) -> str:
        return osp.join(ROOT, self.path('centres.pth'))

    def checkpoint(self, name: str) -> str:
        return self.pipeline.checkpoint(self.pipeline.path(name))

    def data_options(self) -> List[str]:
        return [f'train_dataloader.dataset.data_root={self.data}',
                f'test_dataloader.dataset.data_root={self.data}']

    def centres_stage(self) -> Stage:
        return Stage('centres', 'W-OoD class and OoD centres', lambda: [
            Command([
                self.py, 'tools/woods_centres.py', WOODS_CONFIG,
                self.checkpoint('vanilla'), '--out', self.centres(),
                '--ood-root', self.pipeline.ood_root(), '--device', 'cpu',
                '--cfg-options', *self.data_options()
            ])
        ])

    def control_stage(self) -> Stage:
        """W-OoD's run with λ = β = 0: the pipeline's woods command with
        the two loss weights set and its own work dir."""
        def build() -> List[Command]:
            (woods, ) = self.pipeline.build_woods()
            argv = woods.resolve()
            argv[argv.index('--work-dir') + 1] = self.pipeline.path('control')
            return [Command(argv + ['model.metric_loss.loss_weight=0.0',
                                    'model.ood_loss.loss_weight=0.0'])]

        return Stage('control', 'fine-tune the vanilla classifier with '
                     'λ = β = 0 (the control)', build)

    def cams(self, name: str) -> Stage:
        """CAMs of ``name`` on train_aug, scored on both splits (W-OoD's
        are the pipeline's own, only scored here)."""
        config = CAM_CONFIG if name == 'vanilla' else WOODS_CONFIG
        out = self.pipeline.cam_dir('train_aug') if name == 'woods' \
            else osp.join(ROOT, self.path('cams', name))
        opts = ['--cfg-options',
                f'test_dataloader.dataset.data_root={self.data}']

        def build() -> List[Command]:
            cmds = [] if name == 'woods' else [Command([
                self.py, 'tools/infer_cams.py', config,
                self.checkpoint(name), '--out-dir', out, '--split',
                'train_aug', '--work-dir', self.path(name, 'infer'), *opts])]
            for split in SPLITS:
                tag = f'{name}_{split}'
                cmds.append(Command([
                    self.py, 'tools/eval_cams.py', config, '--cam-dir', out,
                    '--split', split, '--curve-out',
                    self.path('metrics', f'{tag}_curve.json'), *opts
                ], metrics=tag))
            return cmds

        return Stage(f'cams_{name}', f'CAMs of {name}, scored', build,
                     outputs=[] if name == 'woods' else [out])

    def stages(self) -> List[Stage]:
        stages = self.pipeline.stages()
        names = [s.name for s in stages]
        stages.insert(names.index('woods'), self.centres_stage())
        return stages + [self.control_stage(),
                         *[self.cams(name) for name, _ in MODELS]]


def class_scores(curve: dict, threshold: float) -> Dict[str, tuple]:
    """{class: (precision %, IoU %)} at ``threshold`` of a curve file."""
    i = curve['thresholds'].index(threshold)
    out = {}
    for c, name in enumerate(curve['classes']):
        prec, iou = curve['Precision'][i][c], curve['IoU'][i][c]
        out[name] = tuple(None if v is None else 100 * v for v in (prec, iou))
    return out


def fmt(value: Optional[float]) -> str:
    return '—' if value is None else f'{value:.1f}'


def cam_table(work: str, split: str) -> str:
    """Markdown table of the three models' CAMs on ``split``."""
    head = ['model', 'mIoU best (t)', 'mIoU fixed']
    for name in CONTEXT:
        head += [f'{name} P / IoU best', f'{name} P / IoU fixed']
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '---|' * len(head)]
    for name, label in MODELS:
        tag = osp.join(ROOT, work, 'metrics', f'{name}_{split}')
        with open(tag + '.json') as f:
            metrics = json.load(f)
        with open(tag + '_curve.json') as f:
            curve = json.load(f)
        best = class_scores(curve, curve['best_threshold'])
        fixed = class_scores(curve, curve['fixed_threshold'])
        row = [label, f"{metrics['cam/mIoU']:.2f} "
               f"({metrics['cam/best_threshold']:g})",
               f"{metrics['cam/mIoU@fixed']:.2f}"]
        for cls in CONTEXT:
            row += [' / '.join(map(fmt, best[cls])),
                    ' / '.join(map(fmt, fixed[cls]))]
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description='mmwsss W-OoD demo')
    parser.add_argument('--work-dir', default='work_dirs/demo_woods')
    add_demo_set_arguments(parser)
    parser.add_argument('--num-ood', type=int, default=200,
                        help='OoD images (default 200; K-means needs >= 50)')
    parser.add_argument('--fresh', action='store_true',
                        help='delete the work dir first')
    args = parser.parse_args(argv)
    if args.num_ood < 50:
        parser.error('--num-ood must be >= 50 (K = 50 OoD clusters)')
    work = osp.join(ROOT, args.work_dir)
    if args.fresh and osp.isdir(work):
        shutil.rmtree(work)
    os.environ.setdefault('OMP_NUM_THREADS', '1')  # see tools/demo.py
    start = time.time()
    runner = StageRunner(ROOT, work)
    generate = Stage('data', 'synthetic set with OoD images', lambda: [
        Command([sys.executable, 'tools/generate_synthetic.py',
                 *demo_set_argv(args), '--num-ood', str(args.num_ood)])])
    try:
        runner.run_stage(generate)  # always: it returns at once when done
        runner.run(WOoDDemo(args).stages())
    except PipelineError as err:
        print(f'demo_woods: {err}', file=sys.stderr)
        return 1
    tables = [f'The W-OoD pipeline ({args.data_root}; CAMs, labels and '
              'pseudo-masks scored on `train`, the segmentors on `val`):\n\n'
              + stage_table(load_metrics(work), prior='W-OoD')]
    for split in SPLITS:
        tables.append(f'CAMs on `{split}` ({args.data_root}; P = precision, '
                      f'% of the class\'s predicted pixels that are right):'
                      f'\n\n{cam_table(args.work_dir, split)}')
    text = '\n\n'.join(tables)
    with atomic_path(osp.join(work, 'results.md')) as tmp:
        with open(tmp, 'w') as f:
            f.write(text + '\n')
    print(f'\n==== W-OoD demo done in {time.time() - start:.0f} s ====')
    for name in sorted(os.listdir(osp.join(work, '.stages')),
                       key=lambda n: osp.getmtime(
                           osp.join(work, '.stages', n))):
        with open(osp.join(work, '.stages', name)) as f:
            info = json.load(f)
        print(f'{info["seconds"]:7.1f} s  {info["stage"]}')
    print('\n' + text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
