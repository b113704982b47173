"""P-NOC through the tools: train (from the vanilla checkpoint), exact
resume of both optimizers / schedulers / loss weights, CAM inference with a
P-NOC checkpoint, and 2-process CPU DDP training + resume."""
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO, data_opts, run_tool

PNOC = osp.join(REPO, 'configs', 'pnoc', 'pnoc_tiny_synthetic.py')
CAM = osp.join(REPO, 'configs', 'cam', 'cam_tiny_synthetic.py')

# end-to-end tool runs (subprocesses): deselect with -m 'not slow'
pytestmark = pytest.mark.slow


def pnoc_opts(root, ckpt, epochs, *extra):
    return data_opts(
        root, epochs, f'model.noc_checkpoint={ckpt}',
        f'model.generator.pretrained={ckpt}',
        f'param_scheduler.generator.0.end={epochs}',
        f'param_scheduler.noc.0.end={epochs}',
        'optim_wrapper.generator.accumulative_counts=2',
        'optim_wrapper.noc.accumulative_counts=2',
        'model.generator.test_cfg.scales=[1.0,0.5]', *extra)


def scalars(work):
    """Per-iteration logged scalars {iter: record} of a run."""
    files = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
    records = {}
    for path in files:
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if 'w_re' in rec:
                    records[rec['iter']] = rec
    return records


@pytest.fixture(scope='module')
def pnoc_run(vanilla_run, synthetic_root, tmp_path_factory):
    work = str(tmp_path_factory.mktemp('pnoc'))
    run_tool(['tools/train.py', PNOC, '--work-dir', work,
              *pnoc_opts(synthetic_root, vanilla_run[1], 2,
                         'default_hooks.checkpoint.interval=1',
                         'default_hooks.checkpoint.max_keep_ckpts=3')])
    return work


def test_pnoc_trains_and_logs_all_terms(pnoc_run):
    recs = scalars(pnoc_run)
    assert recs, 'no scalars logged'
    last = recs[max(recs)]
    for key in ('loss_cls', 'loss_puzzle', 'loss_re', 'loss_cse', 'loss_noc',
                'generator.lr', 'noc.lr', 'w_re', 'w_cse', 'w_noc'):
        assert key in last, key
    first = recs[min(recs)]
    assert first['w_cse'] == pytest.approx(0.3, abs=0.05)
    assert last['w_cse'] > first['w_cse']
    assert osp.isfile(osp.join(pnoc_run, 'epoch_2.pth'))


def test_resume_restores_optimizers_schedulers_and_weights(
        pnoc_run, vanilla_run, synthetic_root, tmp_path):
    work = str(tmp_path / 'resumed')
    os.makedirs(work)
    shutil.copy(osp.join(pnoc_run, 'epoch_1.pth'), work)
    ckpt1 = osp.join(work, 'epoch_1.pth')
    out = run_tool(['tools/train.py', PNOC, '--work-dir', work, '--resume',
                    ckpt1, *pnoc_opts(synthetic_root, vanilla_run[1], 2)])
    assert 'resumed epoch: 1' in out
    assert 'missing keys' not in out and 'unexpected key' not in out
    full, resumed = scalars(pnoc_run), scalars(work)
    later = [i for i in resumed if i in full and i > min(resumed)]
    assert later
    for i in later:
        for key in ('generator.lr', 'noc.lr', 'w_re', 'w_cse', 'w_noc'):
            assert resumed[i][key] == pytest.approx(full[i][key], rel=1e-6)


def test_infer_cams_with_pnoc_checkpoint(pnoc_run, synthetic_root, tmp_path):
    ckpt = osp.join(pnoc_run, 'epoch_2.pth')
    opts = ['--cfg-options',
            f'test_dataloader.dataset.data_root={synthetic_root}',
            'test_dataloader.num_workers=0']
    out_a = str(tmp_path / 'a')
    run_tool(['tools/infer_cams.py', PNOC, ckpt, '--out-dir', out_a,
              '--split', 'val', *opts,
              'model.generator.test_cfg.scales=[1.0]'])
    # the plain CAM config accepts the P-NOC checkpoint (its generator)
    out_b = str(tmp_path / 'b')
    run_tool(['tools/infer_cams.py', CAM, ckpt, '--out-dir', out_b,
              '--split', 'val', *opts, 'model.test_cfg.scales=[1.0]'])
    a = sorted(os.listdir(out_a))
    assert a and a == sorted(os.listdir(out_b))
    from mmwsss.utils.cam_io import load_cam
    import numpy as np
    ca, ka = load_cam(osp.join(out_a, a[0]))
    cb, kb = load_cam(osp.join(out_b, a[0]))
    np.testing.assert_array_equal(ka, kb)
    np.testing.assert_allclose(ca, cb, atol=1 / 255)


def test_dist_infer_cams_with_pnoc_checkpoint(pnoc_run, synthetic_root,
                                              tmp_path):
    """--launcher pytorch wraps each P-NOC network in its own DDP module
    (``generator.module.*``); the checkpoint (``generator.*``) must still
    load: the pipeline's ``--gpus N`` runs exactly this command."""
    ckpt = osp.join(pnoc_run, 'epoch_2.pth')
    cams = str(tmp_path / 'cams')
    env = dict(os.environ, PYTHON=sys.executable, PORT='29527',
               PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', 'tools/dist_infer_cams.sh', PNOC, ckpt, '2', '--out-dir',
         cams, '--split', 'val', '--work-dir', str(tmp_path / 'w'),
         '--cfg-options', f'test_dataloader.dataset.data_root={synthetic_root}',
         'test_dataloader.num_workers=0',
         'model.generator.test_cfg.scales=[1.0]'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'tensors missing' not in out
    with open(osp.join(synthetic_root, 'ImageSets', 'Segmentation',
                       'val.txt')) as f:
        ids = sorted(line.strip() for line in f if line.strip())
    assert sorted(osp.splitext(n)[0] for n in os.listdir(cams)) == ids


def test_test_py_with_cam_config_uses_the_pnoc_generator(
        pnoc_run, synthetic_root, tmp_path):
    """tools/test.py loads checkpoints as infer_cams does: a P-NOC
    checkpoint with a plain CAM config evaluates its generator."""
    ckpt = osp.join(pnoc_run, 'epoch_2.pth')
    out = run_tool(['tools/test.py', CAM, ckpt, '--work-dir',
                    str(tmp_path), '--cfg-options',
                    f'test_dataloader.dataset.data_root={synthetic_root}',
                    'test_dataloader.num_workers=0',
                    'model.test_cfg.scales=[1.0]'])
    assert 'using the "generator" tensors' in out
    summary = json.loads([line for line in out.splitlines()
                          if line.startswith('{"')][-1])
    assert summary


def test_dist_train_pnoc_two_cpu_processes_and_resume(
        vanilla_run, synthetic_root, tmp_path):
    work = str(tmp_path / 'ddp')
    env = dict(os.environ, PYTHON=sys.executable, PORT='29519',
               PYTHONPATH=REPO)

    def launch(epochs, *extra):
        proc = subprocess.run(
            ['bash', 'tools/dist_train.sh', PNOC, '2', '--work-dir', work,
             *extra, *pnoc_opts(synthetic_root, vanilla_run[1], epochs)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-4000:]
        return out

    # with the generator's EMA: it is not DDP-wrapped and resumes too
    ema = 'model.ema.momentum=0.1'
    launch(1, '--cfg-options', ema)
    import torch
    state = torch.load(osp.join(work, 'epoch_1.pth'), map_location='cpu',
                       weights_only=False)['state_dict']
    assert not any(k.startswith(('generator.module.', 'noc.module.'))
                   for k in state), 'DDP infix saved'
    assert any(k.startswith('generator.') for k in state)
    assert any(k.startswith('noc.') for k in state)
    assert state['generator_ema.steps'].item() > 0
    out = launch(2, '--resume', '--cfg-options', ema)
    assert 'resumed epoch: 1' in out
    assert 'missing keys' not in out and 'unexpected key' not in out
    state2 = torch.load(osp.join(work, 'epoch_2.pth'), map_location='cpu',
                        weights_only=False)['state_dict']
    # the EMA continued from the checkpoint (a fresh one restarts its count)
    assert state2['generator_ema.steps'] > state['generator_ema.steps']
