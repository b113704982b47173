"""W-OoD on the synthetic set, on CPU: vanilla CAMs vs W-OoD fine-tuning vs
the same fine-tuning without the W-OoD terms (the control).

    python tools/demo_woods.py [--work-dir work_dirs/demo_woods]
        [--data-root data/synthetic] [--num-ood 200]
        [--seed 0 --min-size 64 --max-size 96] [--fresh]

The second set of the README: ``--seed 1 --min-size 128 --max-size 192
--data-root data/synthetic_s1 --work-dir work_dirs/demo_woods_s1``.

1. ``tools/generate_synthetic.py`` writes the synthetic set with
   ``--num-ood`` OoD images (a sky or water band, no object) under
   ``DATA/OoD``; the in-distribution images are the main demo's, byte for
   byte;
2. the vanilla classifier (``configs/cam/cam_tiny_synthetic.py``, 20
   epochs from scratch) is trained;
3. ``tools/woods_centres.py`` computes the class and OoD centres with it;
4. W-OoD (``configs/woods/woods_tiny_synthetic.py``, 5 epochs, λ = 0.007,
   β = 0.25) fine-tunes it; the **control** fine-tunes it the same way with
   λ = β = 0 (same data, OoD batches drawn and ignored, same schedule), so
   a difference between the two is W-OoD's, not the extra epochs';
5. TTA CAMs of all three on ``train_aug`` are scored by
   ``tools/eval_cams.py`` on ``train`` (the main demo's CAM protocol) and
   on ``train_aug``: mIoU at the best (oracle) and the fixed (0.25)
   threshold and the per-class precision / IoU of the context classes
   ``kite`` (on sky) and ``boat`` (on water), whose CAMs cover the band.

The tables are printed and saved as ``{work_dir}/results.md``. Stages
whose outputs exist are skipped (``--fresh`` starts over).
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
from mmwsss.synthetic import add_demo_set_arguments, demo_set_argv
from mmwsss.pipeline.runner import (Command, PipelineError, Stage,
                                    StageRunner)
from mmwsss.utils import atomic_path

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CAM_CONFIG = 'configs/cam/cam_tiny_synthetic.py'
WOODS_CONFIG = 'configs/woods/woods_tiny_synthetic.py'
CONTEXT = ('kite', 'boat')  # the classes whose CAMs cover sky / water
MODELS = (('vanilla', 'vanilla classifier (stage 0)'),
          ('control', 'control: +5 epochs, λ = β = 0'),
          ('woods', 'W-OoD: +5 epochs, λ = 0.007, β = 0.25'))
SPLITS = ('train', 'train_aug')


class WOoDDemo:
    """The demo's stages and their commands."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.py = sys.executable
        self.work = args.work_dir
        self.data = args.data_root

    def path(self, *parts: str) -> str:
        return osp.join(self.work, *parts)

    def checkpoint(self, name: str) -> str:
        marker = osp.join(ROOT, self.path(name), 'last_checkpoint')
        if not osp.isfile(marker):
            raise FileNotFoundError(f'{marker} not found: the {name} run '
                                    'has not finished')
        with open(marker) as f:
            return f.read().strip()

    def data_options(self) -> List[str]:
        return [f'train_dataloader.dataset.data_root={self.data}',
                f'test_dataloader.dataset.data_root={self.data}']

    def woods_options(self, weights: Dict[str, float]) -> List[str]:
        ood = osp.join(self.data, 'OoD')
        return [
            '--cfg-options', *self.data_options(),
            f'ood_dataset.data_root={ood}',
            f'custom_hooks.0.ood_dataloader.dataset.data_root={ood}',
            f'model.init_checkpoint={self.checkpoint("vanilla")}',
            f'custom_hooks.1.centres_file={self.path("centres.pth")}',
            *[f'model.{k}.loss_weight={v}' for k, v in weights.items()]
        ]

    def train_woods(self, name: str, weights: Dict[str, float]) -> Stage:
        return Stage(
            name, f'fine-tune the vanilla classifier ({name})',
            lambda: [Command([self.py, 'tools/train.py', WOODS_CONFIG,
                              '--work-dir', self.path(name),
                              *self.woods_options(weights)])])

    def cams(self, name: str) -> Stage:
        config = CAM_CONFIG if name == 'vanilla' else WOODS_CONFIG
        out = self.path('cams', name)
        opts = ['--cfg-options',
                f'test_dataloader.dataset.data_root={self.data}']

        def build() -> List[Command]:
            cmds = [Command([self.py, 'tools/infer_cams.py', config,
                             self.checkpoint(name), '--out-dir', out,
                             '--split', 'train_aug', '--work-dir',
                             self.path(name, 'infer'), *opts])]
            for split in SPLITS:
                tag = f'{name}_{split}'
                cmds.append(Command([
                    self.py, 'tools/eval_cams.py', config, '--cam-dir', out,
                    '--split', split, '--curve-out',
                    self.path('metrics', f'{tag}_curve.json'), *opts
                ], metrics=tag))
            return cmds

        return Stage(f'cams_{name}', f'CAMs of {name}, scored', build,
                     outputs=[osp.join(ROOT, out)])

    def stages(self) -> List[Stage]:
        ood = osp.join(self.data, 'OoD')
        return [
            Stage('vanilla', 'vanilla CAM classifier', lambda: [Command([
                self.py, 'tools/train.py', CAM_CONFIG, '--work-dir',
                self.path('vanilla'), '--cfg-options', *self.data_options()
            ])]),
            Stage('centres', 'W-OoD class and OoD centres', lambda: [Command([
                self.py, 'tools/woods_centres.py', WOODS_CONFIG,
                self.checkpoint('vanilla'), '--out', self.path('centres.pth'),
                '--ood-root', ood, '--device', 'cpu', '--cfg-options',
                *self.data_options()
            ])]),
            self.train_woods('woods', {}),
            self.train_woods('control', dict(metric_loss=0.0, ood_loss=0.0)),
            *[self.cams(name) for name, _ in MODELS],
        ]


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


def results_table(work: str, split: str) -> str:
    """Markdown table of the three models on ``split``."""
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
    tables = []
    for split in SPLITS:
        tables.append(f'CAMs on `{split}` ({args.data_root}; P = precision, '
                      f'% of the class\'s predicted pixels that are right):'
                      f'\n\n{results_table(args.work_dir, split)}')
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
