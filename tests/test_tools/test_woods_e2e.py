"""W-OoD through the tools: fine-tuning the vanilla run on generated data
with OoD images (centres computed in-process, every loss term logged),
the centres in the checkpoints and on resume, CAM inference with the W-OoD
checkpoint (CAM and W-OoD configs alike), 2-process CPU DDP training."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmwsss.synthetic import generate_synthetic_voc
from mmwsss.inference import load_centres
from mmwsss.utils.cam_io import load_cam
from tests.conftest import REPO, data_opts, logged_scalars, run_tool

WOODS = osp.join(REPO, 'configs', 'woods', 'woods_tiny_synthetic.py')
CAM = osp.join(REPO, 'configs', 'cam', 'cam_tiny_synthetic.py')

# end-to-end tool runs (subprocesses): deselect with -m 'not slow'
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def ood_root(tmp_path_factory):
    """The session's synthetic set (same parameters, so the vanilla run's
    images byte for byte) plus 8 OoD images."""
    root = str(tmp_path_factory.mktemp('woods_data'))
    generate_synthetic_voc(root, num_train=24, num_val=8, seed=0, num_ood=8)
    return root


def woods_opts(root, ckpt, epochs, *extra):
    ood = osp.join(root, 'OoD')
    return data_opts(
        root, epochs, f'model.init_checkpoint={ckpt}',
        'model.num_clusters=3', f'param_scheduler.0.end={epochs}',
        f'ood_dataset.data_root={ood}',
        f'custom_hooks.0.ood_dataloader.dataset.data_root={ood}',
        'custom_hooks.0.ood_dataloader.batch_size=4',
        'custom_hooks.0.ood_dataloader.num_workers=0',
        'custom_hooks.0.ood_dataloader.persistent_workers=False',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=3',
        'model.test_cfg.scales=[1.0,0.5]', *extra)


def centres_of(ckpt):
    state = torch.load(ckpt, map_location='cpu',
                       weights_only=False)['state_dict']
    return state['class_centres'], state['ood_centres'], state[
        'centres_ready']


@pytest.fixture(scope='module')
def woods_run(vanilla_run, ood_root, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('woods'))
    out = run_tool(['tools/train.py', WOODS, '--work-dir', work,
                    *woods_opts(ood_root, vanilla_run[1], 2)])
    return work, out


def test_woods_fine_tunes_with_every_term(woods_run, vanilla_run):
    work, out = woods_run
    assert 'WOoDCentresHook: computed 6 class and 3 OoD centres' in out
    assert f'loaded {vanilla_run[1]} into WOoD' in out
    recs = logged_scalars(work, 'loss_cls')
    assert len(recs) == 12  # 2 epochs of 6 iterations
    for rec in recs.values():
        for key in ('loss', 'loss_cls', 'loss_metric', 'loss_ood',
                    'ood_top_prob'):
            assert key in rec, key
        assert rec['loss_ood'] > 0 and rec['loss_metric'] != 0
        assert rec['loss'] == pytest.approx(
            rec['loss_cls'] + rec['loss_metric'] + rec['loss_ood'],
            abs=1e-3)
    # the centres file and both checkpoints hold the same centres
    side = load_centres(osp.join(work, 'woods_centres.pth'))
    for epoch in (1, 2):
        cls, ood, ready = centres_of(osp.join(work, f'epoch_{epoch}.pth'))
        assert bool(ready)
        assert torch.equal(cls, side.class_centres)
        assert torch.equal(ood, side.ood_centres)


def test_resume_keeps_the_centres(woods_run, vanilla_run, ood_root,
                                  tmp_path):
    full, _ = woods_run
    work = str(tmp_path / 'resumed')
    os.makedirs(work)
    shutil.copy(osp.join(full, 'epoch_1.pth'), work)
    out = run_tool(['tools/train.py', WOODS, '--work-dir', work, '--resume',
                    osp.join(work, 'epoch_1.pth'),
                    *woods_opts(ood_root, vanilla_run[1], 2)])
    assert 'resumed epoch: 1' in out
    assert 'keeping the centres of the loaded checkpoint' in out
    assert not osp.exists(osp.join(work, 'woods_centres.pth'))
    resumed = centres_of(osp.join(work, 'epoch_2.pth'))
    for a, b in zip(resumed, centres_of(osp.join(full, 'epoch_2.pth'))):
        assert torch.equal(a, b)


def test_infer_cams_with_the_woods_checkpoint(woods_run, ood_root, tmp_path):
    """CAM inference is the CAM classifier's: the W-OoD config and the
    plain CAM config give the same CAMs from a W-OoD checkpoint."""
    ckpt = osp.join(woods_run[0], 'epoch_2.pth')
    opts = ['--cfg-options', f'test_dataloader.dataset.data_root={ood_root}',
            'test_dataloader.num_workers=0']
    out_a, out_b = str(tmp_path / 'a'), str(tmp_path / 'b')
    run_tool(['tools/infer_cams.py', WOODS, ckpt, '--out-dir', out_a,
              '--split', 'val', *opts, 'model.num_clusters=3',
              'model.test_cfg.scales=[1.0]'])
    run_tool(['tools/infer_cams.py', CAM, ckpt, '--out-dir', out_b,
              '--split', 'val', *opts, 'model.test_cfg.scales=[1.0]'])
    names = sorted(os.listdir(out_a))
    assert len(names) == 8 and names == sorted(os.listdir(out_b))
    for name in names:
        ca, ka = load_cam(osp.join(out_a, name))
        cb, kb = load_cam(osp.join(out_b, name))
        np.testing.assert_array_equal(ka, kb)
        np.testing.assert_array_equal(ca, cb)


def test_dist_train_two_cpu_processes(vanilla_run, ood_root, tmp_path):
    """Under DDP each network is wrapped on its own and the model's
    train_step still receives the OoD batch; the checkpoint keys are
    plain and hold the centres."""
    work = str(tmp_path / 'ddp')
    env = dict(os.environ, PYTHON=sys.executable, PORT='29541',
               PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', WOODS, '2', '--work-dir', work,
         *woods_opts(ood_root, vanilla_run[1], 1)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'Distributed launcher: pytorch' in out
    recs = logged_scalars(work, 'loss_cls')
    assert len(recs) == 3  # 24 images, 2 processes x batch 4
    assert all(rec['loss_ood'] > 0 for rec in recs.values())
    state = torch.load(osp.join(work, 'epoch_1.pth'), map_location='cpu',
                       weights_only=False)['state_dict']
    assert not [k for k in state if '.module.' in k]
    assert bool(state['centres_ready'])
