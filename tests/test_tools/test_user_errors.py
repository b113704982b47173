"""User errors in the tools end in one ``error:`` line naming the key or
file, exit status 1 (2 for command-line syntax, as argparse), and no
traceback."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests.conftest import CAM_CONFIG, REPO

SEG = osp.join(REPO, 'configs', 'segmentation',
               'deeplabv3plus_tiny_synthetic.py')

# tool subprocesses: deselect with -m 'not slow'
pytestmark = pytest.mark.slow


def run(*args: str):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout, proc.stderr


def error_lines(err: str) -> list:
    assert 'Traceback' not in err, err[-3000:]
    return [line for line in err.splitlines() if 'error:' in line]


def test_train_refuses_a_schedule_of_the_old_length(tmp_path):
    rc, _, err = run('tools/train.py', CAM_CONFIG, '--work-dir',
                     str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=3')
    assert rc == 1
    (line, ) = error_lines(err)
    assert 'train_cfg.max_epochs=3' in line
    assert 'param_scheduler.0.end=3' in line
    assert not os.listdir(tmp_path)


def test_cfg_options_syntax_error_names_the_token(tmp_path):
    rc, _, err = run('tools/train.py', CAM_CONFIG, '--cfg-options',
                     'train_cfg.max_epochs=3', 'model.lr')
    assert rc == 2
    (line, ) = error_lines(err)
    assert "'model.lr' is not KEY=VALUE" in line


def test_test_py_refuses_a_checkpoint_of_another_model(
        vanilla_run, synthetic_root, tmp_path):
    """A CAM checkpoint with a segmentation config: mmengine's non-strict
    load evaluated a half-initialised segmentor (mIoU 0.86, exit 0)."""
    ckpt = vanilla_run[1]
    rc, out, err = run(
        'tools/test.py', SEG, ckpt, '--work-dir', str(tmp_path),
        '--cfg-options', f'test_dataloader.dataset.data_root={synthetic_root}',
        'test_dataloader.num_workers=0')
    assert rc == 1, out[-2000:] + err[-2000:]
    (line, ) = error_lines(err)
    assert ckpt in line and 'tensors missing, e.g.' in line
    assert 'decode_head.' in line
    assert 'Iter(test)' not in out
