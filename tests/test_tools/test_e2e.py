"""End to end on the synthetic set through the command-line tools: train →
infer CAMs (resumable) → evaluate → overlays; stock MMSeg's train.py; and
2-process CPU (gloo) distributed training."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests.conftest import REPO, data_opts, run_tool

CONFIG = osp.join(REPO, 'configs', 'cam', 'cam_tiny_synthetic.py')

# end-to-end tool runs (subprocesses): deselect with -m 'not slow'
pytestmark = pytest.mark.slow


def _data_opts(root, epochs=1):
    return data_opts(root, epochs, f'param_scheduler.0.end={epochs}',
                     'model.test_cfg.scales=[1.0,0.5]')


_run = run_tool


@pytest.fixture(scope='module')
def trained(vanilla_run):
    return vanilla_run


def test_train_infer_eval_visualize(trained, synthetic_root, tmp_path):
    work, ckpt = trained
    assert osp.isfile(ckpt)
    cams = str(tmp_path / 'cams')
    opts = _data_opts(synthetic_root)
    out = _run(['tools/infer_cams.py', CONFIG, ckpt, '--out-dir', cams,
                '--split', 'train', '--work-dir', str(tmp_path / 'w'), *opts])
    files = sorted(glob.glob(osp.join(cams, '*.npz')))
    assert files, out
    from mmwsss.utils.cam_io import load_cam
    c, k = load_cam(files[0])
    assert c.ndim == 3 and len(k) == c.shape[0] and c.max() <= 1.0

    # resumable: a second run infers nothing and leaves files untouched
    mtimes = [os.stat(f).st_mtime_ns for f in files]
    out2 = _run(['tools/infer_cams.py', CONFIG, ckpt, '--out-dir', cams,
                 '--split', 'train', '--work-dir', str(tmp_path / 'w'),
                 *opts])
    assert '0 to infer' in out2
    assert [os.stat(f).st_mtime_ns for f in files] == mtimes

    # a deleted file is recomputed, the others are kept
    os.remove(files[0])
    out3 = _run(['tools/infer_cams.py', CONFIG, ckpt, '--out-dir', cams,
                 '--split', 'train', '--work-dir', str(tmp_path / 'w'),
                 *opts])
    assert '1 to infer' in out3 and osp.exists(files[0])

    out4 = _run(['tools/eval_cams.py', CONFIG, '--cam-dir', cams, '--split',
                 'train', *opts])
    assert 'mIoU' in out4

    vis = str(tmp_path / 'vis')
    _run(['tools/visualize_cams.py', CONFIG, '--cam-dir', cams, '--out-dir',
          vis, '--split', 'train', '--num', '2', *opts])
    assert len(glob.glob(osp.join(vis, '*.png'))) == 2


def test_resume_training(trained, synthetic_root, tmp_path):
    import shutil
    work = str(tmp_path / 'resume')
    shutil.copytree(trained[0], work)  # keep the shared run intact
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work, osp.basename(trained[1])))
    out = _run(['tools/train.py', CONFIG, '--work-dir', work, '--resume',
                *_data_opts(synthetic_root, epochs=2)])
    assert 'resumed epoch: 1' in out
    assert osp.isfile(osp.join(work, 'epoch_2.pth'))


def test_missing_checkpoint_is_clear(synthetic_root, tmp_path):
    proc = subprocess.run(
        [sys.executable, 'tools/infer_cams.py', CONFIG,
         str(tmp_path / 'none.pth'), '--out-dir', str(tmp_path / 'c')],
        cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'none.pth' in proc.stderr and 'does not exist' in proc.stderr


def test_stock_mmseg_train_script_runs_our_config(synthetic_root, tmp_path):
    import mmseg
    script = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools',
                      'train.py')
    if not osp.isfile(script):
        pytest.skip('this mmseg install ships no .mim/tools/train.py')
    _run([script, CONFIG, '--work-dir', str(tmp_path / 'stock'),
          *_data_opts(synthetic_root)])
    assert osp.isfile(str(tmp_path / 'stock' / 'epoch_1.pth'))


def test_dist_train_two_cpu_processes(synthetic_root, tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, PORT='29517',
               PYTHONPATH=REPO)
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir',
         str(tmp_path / 'ddp'), *_data_opts(synthetic_root)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Distributed launcher: pytorch' in proc.stdout + proc.stderr \
        or 'world_size: 2' in proc.stdout + proc.stderr
    assert osp.isfile(str(tmp_path / 'ddp' / 'epoch_1.pth'))


def test_dist_infer_cams_two_cpu_processes_shard_the_split(
        trained, synthetic_root, tmp_path):
    cams = str(tmp_path / 'cams')
    env = dict(os.environ, PYTHON=sys.executable, PORT='29523',
               PYTHONPATH=REPO)
    proc = subprocess.run(
        ['bash', 'tools/dist_infer_cams.sh', CONFIG, trained[1], '2',
         '--out-dir', cams, '--split', 'val', '--work-dir',
         str(tmp_path / 'w'), *_data_opts(synthetic_root)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(osp.join(synthetic_root, 'ImageSets', 'Segmentation',
                       'val.txt')) as f:
        ids = sorted(line.strip() for line in f if line.strip())
    written = sorted(osp.splitext(n)[0] for n in os.listdir(cams))
    assert written == ids  # every image once, none missing
