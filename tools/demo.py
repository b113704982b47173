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
3. ``tools/visualize_cams.py`` draws P-NOC CAM overlays with the ground
   truth into ``{work_dir}/overlays`` (PNG);
4. ``tools/test.py`` saves the segmentor's predictions on the train split
   (``{work_dir}/segmentation/pred_train``) for the report;
5. ``tools/make_report.py`` writes the HTML report
   ``{work_dir}/report/index.html`` (stage table, threshold curves, a
   grid of image / GT / CAM / random walk / pseudo-mask / prediction);
6. a table of every stage's mIoU is printed (and saved as
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
from typing import List

import mmwsss  # noqa: F401  isort:skip
from mmwsss.synthetic import add_demo_set_arguments, demo_set_argv
from mmwsss.pipeline.results import load_metrics, results_table
from mmwsss.utils import atomic_path

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PIPELINE = 'configs/pipelines/pnoc_synthetic.py'
SEG_CONFIG = 'configs/segmentation/deeplabv3plus_tiny_synthetic.py'


def run(cmd: List[str]) -> None:
    printable = ' '.join(cmd).replace(sys.executable, 'python')
    print(f'\n$ {printable}', flush=True)
    if subprocess.call(cmd, cwd=ROOT) != 0:
        sys.exit(f'demo: failed: {printable}')


def predict_train(py: str, work: str, data_root: str) -> None:
    """Save the final segmentor's predictions on the train split (the
    split with CAMs and pseudo-masks) in ``{work}/segmentation/pred_train``
    for the report's sample grid; the pipeline predicts only on val."""
    out = osp.join(work, 'segmentation', 'pred_train')
    marker = osp.join(ROOT, work, 'segmentation', 'last_checkpoint')
    if osp.isdir(osp.join(ROOT, out)) and os.listdir(osp.join(ROOT, out)):
        return
    if not osp.isfile(marker):
        print(f'\nno {marker}: the report shows no predictions on train')
        return
    with open(marker) as f:
        checkpoint = f.read().strip()
    # as the pipeline's own test: no TTA, no CRF (pnoc_synthetic.py)
    run([py, 'tools/test.py', SEG_CONFIG, checkpoint, '--work-dir',
         osp.join(work, 'segmentation', 'test_train'), '--out', out,
         '--cfg-options', f'test_dataloader.dataset.data_root={data_root}',
         'test_dataloader.dataset.ann_file=ImageSets/Segmentation/'
         'train.txt'])


def main() -> None:
    parser = argparse.ArgumentParser(description='mmwsss demo')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    add_demo_set_arguments(parser)
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
    run([py, 'tools/generate_synthetic.py', *demo_set_argv(args)])
    run([py, 'tools/run_pipeline.py', PIPELINE, '--data-root',
         args.data_root, '--work-dir', work])
    run([py, 'tools/visualize_cams.py', 'configs/cam/cam_tiny_synthetic.py',
         '--cam-dir', f'{work}/cams/train_aug', '--out-dir',
         f'{work}/overlays', '--split', 'train', '--num', '12',
         '--cfg-options',
         f'test_dataloader.dataset.data_root={args.data_root}'])
    predict_train(py, work, args.data_root)
    report = osp.join(work, 'report', 'index.html')
    run([py, 'tools/make_report.py', work, '--data-root', args.data_root,
         '--out', report])
    table = results_table(load_metrics(osp.join(ROOT, work)))
    with atomic_path(osp.join(ROOT, work, 'results.md')) as tmp:
        with open(tmp, 'w') as f:
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
    print(f'\nreport: {osp.join(ROOT, report)} (open it in a browser; '
          f'tools/check_report.py {report} checks it headless)')


if __name__ == '__main__':
    main()
