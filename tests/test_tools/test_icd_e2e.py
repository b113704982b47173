"""ICD through the tools on a generated synthetic set: superpixels
(tools/make_superpixels.py), a short training run (tools/train.py, every
loss term and the warm-up weight logged, the sign state in the
checkpoint), then CAM inference (tools/infer_cams.py) and evaluation
(tools/eval_cams.py) on the ICD checkpoint, unchanged tools."""
import json
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch

from mmwsss.utils.cam_io import read_cam
from tests.conftest import REPO, data_opts, logged_scalars, run_tool

ICD = osp.join(REPO, 'configs', 'icd', 'icd_tiny_synthetic.py')

# end-to-end tool runs (subprocesses): deselect with -m 'not slow'
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def icd_run(synthetic_root, tmp_path_factory):
    """(work dir, checkpoint, superpixel dir) of a 2-epoch ICD run with a
    2-iteration top-down warm-up."""
    sp_dir = str(tmp_path_factory.mktemp('superpixels'))
    run_tool(['tools/make_superpixels.py', '--config', ICD, '--split',
              'train_aug', '--out-dir', sp_dir, '--cfg-options',
              f'test_dataloader.dataset.data_root={synthetic_root}'])
    work = str(tmp_path_factory.mktemp('icd_work'))
    run_tool(['tools/train.py', ICD, '--work-dir', work,
              *data_opts(synthetic_root, 2, 'param_scheduler.0.end=2',
                         f'train_dataloader.dataset.pipeline.1.sp_dir='
                         f'{sp_dir}', 'model.warmup_iters=2',
                         'model.test_cfg.scales=[1.0,0.5]')])
    with open(osp.join(work, 'last_checkpoint')) as f:
        return work, f.read().strip(), sp_dir


def test_training_logs_every_term_and_the_warmup(icd_run, synthetic_root):
    work, ckpt, sp_dir = icd_run
    assert len(os.listdir(sp_dir)) == 24  # every train_aug image
    records = logged_scalars(work, 'loss_td')
    assert len(records) >= 4  # 2 epochs of at least 2 batches of 4
    for rec in records.values():
        assert {'loss_cls', 'loss_bu', 'loss_td', 'td_weight'} <= set(rec)
        assert all(math.isfinite(rec[k]) for k in ('loss_cls', 'loss_bu',
                                                   'loss_td'))
    # a 2-iteration warm-up: exp(-10 r / 2) for r = 2, 1, then 1
    weights = [records[i]['td_weight'] for i in sorted(records)]
    assert weights[0] == pytest.approx(math.exp(-10), rel=1e-3)
    assert weights[1] == pytest.approx(math.exp(-5), rel=1e-3)
    assert weights[2:] == [1.0] * (len(weights) - 2)
    state = torch.load(ckpt, map_location='cpu',
                       weights_only=False)['state_dict']
    assert state['sign_state'].shape == (6, 2)
    assert state['sign_state'].abs().sum() > 0


def test_infer_and_eval_cams_on_the_icd_checkpoint(icd_run, synthetic_root,
                                                   tmp_path):
    _, ckpt, _ = icd_run
    cams = str(tmp_path / 'cams')
    opts = ['--cfg-options',
            f'test_dataloader.dataset.data_root={synthetic_root}']
    run_tool(['tools/infer_cams.py', ICD, ckpt, '--out-dir', cams,
              '--split', 'train', *opts])
    files = sorted(os.listdir(cams))
    assert files and all(f.endswith('.npz') for f in files)
    data = read_cam(osp.join(cams, files[0]))
    assert data.cams.ndim == 3 and len(data.keys) == len(data.cams)
    assert 0 <= data.cams.min() and data.cams.max() <= 1
    assert data.coarse is not None
    curve = str(tmp_path / 'curve.json')
    out = run_tool(['tools/eval_cams.py', ICD, '--cam-dir', cams, '--split',
                    'train', '--curve-out', curve, *opts])
    result = json.loads(next(line for line in out.splitlines()
                             if line.startswith('{"cam/')))
    assert 0 <= result['cam/mIoU'] <= 100
    assert osp.isfile(curve)
    assert np.isfinite(result['cam/mIoU@fixed'])
