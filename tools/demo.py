"""The mmwsss demo: the whole P-NOC pipeline on the embedded synthetic data
set, on CPU.

    python tools/demo.py [--work-dir work_dirs/demo] [--data-root data/synthetic]
                         [--fresh] [--seed 0 --min-size 64 --max-size 96]

Another synthetic set (the second set of the README's results) is one
flag set away, e.g. ``--seed 1 --min-size 128 --max-size 192 --data-root
data/synthetic_s1 --work-dir work_dirs/demo_s1``.

1. ``tools/generate_synthetic.py`` writes a deterministic synthetic data set
   in VOC layout;
2. ``tools/run_pipeline.py configs/pipelines/pnoc_synthetic.py`` runs every
   stage with tiny models (vanilla CAM → P-NOC → CAMs → C²AM-H → saliency
   refinement → affinity labels → AffinityNet → random walk → pseudo-masks
   → DeepLabV3+, and the same DeepLabV3+ on the true masks);
3. ``tools/visualize_cams.py`` draws P-NOC CAM overlays into
   ``{work_dir}/overlays``;
4. a table of every stage's mIoU is printed (and saved as
   ``{work_dir}/results.md``).

Stages whose outputs exist are skipped, so an interrupted demo resumes;
``--fresh`` starts over.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PIPELINE = 'configs/pipelines/pnoc_synthetic.py'

# (row label, metrics file, mIoU key, note kind); keys with a '.' index
# nested summaries (tools/eval_saliency.py prints one per protocol).
ROWS: List[Tuple[str, str, str, Optional[str]]] = [
    ('CAMs, vanilla classifier', 'vanilla_cams', 'cam/mIoU', 'threshold'),
    ('CAMs, P-NOC (priors)', 'cams', 'cam/mIoU', 'threshold'),
    ('priors + C²AM-H saliency (bg = 1 − s)', 'saliency',
     'cams_saliency.cams_saliency/mIoU', None),
    ('priors + refined saliency (bg = 1 − s)', 'saliency_refine',
     'cams_saliency.cams_saliency/mIoU', None),
    ('C²AM-H saliency, binary fg/bg', 'saliency', 'saliency.saliency/mIoU',
     'saliency'),
    ('refined saliency, binary fg/bg', 'saliency_refine',
     'saliency.saliency/mIoU', 'saliency'),
    ('affinity labels (labelled pixels only)', 'affinity_labels',
     'mask/mIoU', 'coverage'),
    ('random walk', 'rw', 'cam/mIoU', 'threshold'),
    ('pseudo-masks (random walk + CRF)', 'pseudo_masks', 'mask/mIoU', None),
    ('DeepLabV3+ on the pseudo-masks (val)', 'segmentation', 'mIoU', None),
    ('DeepLabV3+ on the true masks (val, ceiling)', 'supervised', 'mIoU',
     None),
]


def lookup(metrics: dict, key: str):
    """``metrics[key]``, following '.'-separated nested keys."""
    value = metrics
    for part in key.split('.'):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def run(cmd: List[str]) -> None:
    printable = ' '.join(cmd).replace(sys.executable, 'python')
    print(f'\n$ {printable}', flush=True)
    if subprocess.call(cmd, cwd=ROOT) != 0:
        sys.exit(f'demo: failed: {printable}')


def results_table(metrics: Dict[str, dict]) -> str:
    """Markdown table of the stages that have metrics."""
    lines = ['| stage | mIoU (%) | note |', '|---|---|---|']
    for label, name, key, note_kind in ROWS:
        m = metrics.get(name) or {}
        value = lookup(m, key)
        if value is None:
            continue
        note = ''
        if note_kind == 'threshold':
            note = f"best background threshold {m['cam/best_threshold']:.2f}"
            if m.get('cam/mIoU@fixed') is not None:
                note += f"; {m['cam/mIoU@fixed']:.2f} at the fixed one"
        elif note_kind == 'saliency':
            best = lookup(m, 'saliency.saliency/best_threshold')
            note = '' if best is None else f'best threshold {best:.2f}'
        elif note_kind == 'coverage':
            note = f"{m['mask/coverage']:.1f} % of the pixels labelled"
        lines.append(f'| {label} | {value:.2f} | {note} |')
    return '\n'.join(lines)


def load_metrics(work: str) -> Dict[str, dict]:
    folder = osp.join(ROOT, work, 'metrics')
    out = {}
    if osp.isdir(folder):
        for name in os.listdir(folder):
            if name.endswith('.json'):
                with open(osp.join(folder, name)) as f:
                    out[name[:-5]] = json.load(f)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description='mmwsss demo')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--num-train', type=int, default=240)
    parser.add_argument('--num-val', type=int, default=60)
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the synthetic set')
    parser.add_argument('--min-size', type=int, default=64,
                        help='smallest image side of the synthetic set')
    parser.add_argument('--max-size', type=int, default=96,
                        help='largest image side of the synthetic set')
    parser.add_argument('--fresh', action='store_true',
                        help='delete the work dir first')
    args = parser.parse_args()
    py = sys.executable
    work = args.work_dir
    if args.fresh and osp.isdir(osp.join(ROOT, work)):
        shutil.rmtree(osp.join(ROOT, work))
    # One thread per process: the tiny models gain nothing from more, and
    # on a busy 2-core machine competing OpenMP threads cost 5-20x.
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    start = time.time()
    run([py, 'tools/generate_synthetic.py', args.data_root, '--num-train',
         str(args.num_train), '--num-val', str(args.num_val), '--seed',
         str(args.seed), '--min-size', str(args.min_size), '--max-size',
         str(args.max_size)])
    run([py, 'tools/run_pipeline.py', PIPELINE, '--data-root',
         args.data_root, '--work-dir', work])
    run([py, 'tools/visualize_cams.py', 'configs/cam/cam_tiny_synthetic.py',
         '--cam-dir', f'{work}/cams/train_aug', '--out-dir',
         f'{work}/overlays', '--split', 'train', '--num', '12',
         '--cfg-options',
         f'test_dataloader.dataset.data_root={args.data_root}'])
    table = results_table(load_metrics(work))
    with open(osp.join(ROOT, work, 'results.md'), 'w') as f:
        f.write(table + '\n')
    print(f'\n==== demo done in {time.time() - start:.0f} s ====')
    timings = osp.join(ROOT, work, '.stages')
    for name in sorted(os.listdir(timings),
                       key=lambda n: os.path.getmtime(osp.join(timings, n))):
        with open(osp.join(timings, name)) as f:
            info = json.load(f)
        print(f'{info["seconds"]:7.1f} s  {info["stage"]}')
    print(f'\nmIoU on the synthetic set ({args.data_root}; CAMs, saliency '
          'and pseudo-masks on the train split, segmentation on val):')
    print(table)


if __name__ == '__main__':
    main()
