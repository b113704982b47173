"""The mmwsss demo: the pipeline on the embedded synthetic data set, on CPU.

    python tools/demo.py [--work-dir work_dirs/demo] [--data-root data/synthetic]
                         [--fresh]

Stages (each prints the command it runs, and is skipped when its output
exists, so an interrupted demo resumes):
  1. generate the synthetic VOC-layout data set;
  2. train the vanilla CAM classifier (configs/cam/cam_tiny_synthetic.py);
  3. infer its TTA CAMs on the train split and evaluate them (best
     threshold swept against GT, and the config's fixed one);
  4. train P-NOC (configs/pnoc/pnoc_tiny_synthetic.py) from the vanilla
     checkpoint, infer and evaluate its CAMs;
  5. write CAM overlay images; print a table of both.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CAM_CONFIG = 'configs/cam/cam_tiny_synthetic.py'
PNOC_CONFIG = 'configs/pnoc/pnoc_tiny_synthetic.py'


def run(cmd: list, log: list) -> str:
    """Run a stage command from the repo root, streaming its output; stop
    the demo on failure. Returns the last line (tools print a JSON summary
    there)."""
    printable = ' '.join(cmd).replace(sys.executable, 'python')
    print(f'\n$ {printable}', flush=True)
    start = time.time()
    last = ''
    with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            print(line, end='', flush=True)
            if line.strip():
                last = line.strip()
    if proc.returncode != 0:
        sys.exit(f'demo: stage failed (exit {proc.returncode}): '
                 f'{printable}')
    log.append((printable, time.time() - start))
    return last


def train(config: str, work: str, options: list, log: list) -> str:
    """Train unless ``work`` holds a finished run; return its checkpoint."""
    marker = osp.join(ROOT, work, 'last_checkpoint')
    if osp.exists(marker):
        print(f'\n[skip] {config} already trained ({work})')
    else:
        run([sys.executable, 'tools/train.py', config, '--work-dir', work,
             '--cfg-options', *options], log)
    with open(marker) as f:
        return f.read().strip()


def cams_and_miou(config: str, checkpoint: str, work: str, options: list,
                  log: list) -> dict:
    """Infer train-split CAMs, evaluate them, return the metrics."""
    py = sys.executable
    cams = f'{work}/cams_train'
    run([py, 'tools/infer_cams.py', config, checkpoint, '--out-dir', cams,
         '--split', 'train', '--work-dir', f'{work}/infer',
         '--cfg-options', *options], log)
    last = run([py, 'tools/eval_cams.py', config, '--cam-dir', cams,
                '--split', 'train', '--curve-out',
                f'{work}/cam_curve_train.json', '--cfg-options', *options],
               log)
    return json.loads(last)


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
    ckpt = train(CAM_CONFIG, cam_dir, data_opt, log)
    results = {'vanilla CAM': cams_and_miou(CAM_CONFIG, ckpt, cam_dir,
                                            data_opt, log)}

    pnoc_dir = f'{work}/pnoc'
    pnoc_opt = data_opt + [f'model.noc_checkpoint={ckpt}',
                           f'model.generator.pretrained={ckpt}']
    pnoc_ckpt = train(PNOC_CONFIG, pnoc_dir, pnoc_opt, log)
    results['P-NOC'] = cams_and_miou(PNOC_CONFIG, pnoc_ckpt, pnoc_dir,
                                     pnoc_opt, log)
    for config, path in ((CAM_CONFIG, cam_dir), (PNOC_CONFIG, pnoc_dir)):
        run([py, 'tools/visualize_cams.py', config, '--cam-dir',
             f'{path}/cams_train', '--out-dir', f'{path}/overlays',
             '--split', 'train', '--num', '12', '--cfg-options', *data_opt],
            log)

    print('\n==== demo done in {:.0f} s ===='.format(time.time() - t0))
    for cmd, secs in log:
        print(f'{secs:7.1f} s  {cmd[:110]}')
    print('\nCAM mIoU (%) on the synthetic train split '
          f'({args.data_root}):')
    print(f'{"stage":<14}{"best thr (oracle)":>20}{"fixed thr":>12}')
    for name, m in results.items():
        best = f"{m['cam/mIoU']:.2f} @ {m['cam/best_threshold']:.2f}"
        print(f'{name:<14}{best:>20}{m.get("cam/mIoU@fixed", float("nan")):>12.2f}')
    print(f'overlays: {cam_dir}/overlays, {pnoc_dir}/overlays')


if __name__ == '__main__':
    main()
