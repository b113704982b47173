"""The mmwsss demo: the pipeline on the embedded synthetic data set, on CPU.

    python tools/demo.py [--work-dir work_dirs/demo] [--data-root data/synthetic]
                         [--fresh]

Stages (each prints the command it runs, and is skipped when its output
exists, so an interrupted demo resumes):
  1. generate the synthetic VOC-layout data set;
  2. train the vanilla CAM classifier (configs/cam/cam_tiny_synthetic.py);
  3. infer TTA CAMs on the train split;
  4. evaluate them (best threshold swept against GT, and the fixed one);
  5. write CAM overlay images.
"""
import argparse
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CAM_CONFIG = 'configs/cam/cam_tiny_synthetic.py'


def run(cmd: list, log: list) -> None:
    """Run a stage command from the repo root; stop the demo on failure."""
    printable = ' '.join(cmd).replace(sys.executable, 'python')
    print(f'\n$ {printable}', flush=True)
    start = time.time()
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f'demo: stage failed (exit {result.returncode}): '
                 f'{printable}')
    log.append((printable, time.time() - start))


def main() -> None:
    parser = argparse.ArgumentParser(description='mmwsss demo')
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--num-train', type=int, default=240)
    parser.add_argument('--num-val', type=int, default=60)
    parser.add_argument('--fresh', action='store_true',
                        help='delete the work dir first')
    args = parser.parse_args()
    py = sys.executable
    work = args.work_dir
    if args.fresh and osp.isdir(osp.join(ROOT, work)):
        shutil.rmtree(osp.join(ROOT, work))
    os.makedirs(osp.join(ROOT, work), exist_ok=True)
    data_opt = [f'train_dataloader.dataset.data_root={args.data_root}',
                f'test_dataloader.dataset.data_root={args.data_root}']
    log: list = []
    t0 = time.time()

    run([py, 'tools/generate_synthetic.py', args.data_root, '--num-train',
         str(args.num_train), '--num-val', str(args.num_val), '--seed', '0'],
        log)

    cam_dir = f'{work}/cam'
    ckpt = f'{cam_dir}/last_checkpoint'
    if osp.exists(osp.join(ROOT, ckpt)):
        print(f'\n[skip] CAM classifier already trained ({ckpt})')
    else:
        run([py, 'tools/train.py', CAM_CONFIG, '--work-dir', cam_dir,
             '--cfg-options', *data_opt], log)
    with open(osp.join(ROOT, ckpt)) as f:
        checkpoint = f.read().strip()

    cams = f'{cam_dir}/cams_train'
    run([py, 'tools/infer_cams.py', CAM_CONFIG, checkpoint, '--out-dir', cams,
         '--split', 'train', '--work-dir', f'{cam_dir}/infer',
         '--cfg-options', *data_opt], log)
    run([py, 'tools/eval_cams.py', CAM_CONFIG, '--cam-dir', cams, '--split',
         'train', '--curve-out', f'{cam_dir}/cam_curve_train.json',
         '--cfg-options', *data_opt], log)
    run([py, 'tools/visualize_cams.py', CAM_CONFIG, '--cam-dir', cams,
         '--out-dir', f'{cam_dir}/overlays', '--split', 'train', '--num', '12',
         '--cfg-options', *data_opt], log)

    print('\n==== demo done in {:.0f} s ===='.format(time.time() - t0))
    for cmd, secs in log:
        print(f'{secs:7.1f} s  {cmd}')
    print(f'CAMs: {cams}   overlays: {cam_dir}/overlays')


if __name__ == '__main__':
    main()
