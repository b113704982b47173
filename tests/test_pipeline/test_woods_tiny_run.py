"""tools/run_pipeline.py with the W-OoD pipeline on a tiny real run:
vanilla CAM → W-OoD (OoD images, centres in-process) → CAMs → affinity
labels from the CAMs alone → AffinityNet → random walk → pseudo-masks,
with real tools and models; every stage leaves its outputs and metrics."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmwsss.synthetic import generate_synthetic_voc
from tests.conftest import REPO
from tests.test_pipeline.test_tiny_run import TINY as TINY_RUN

# the tiny P-NOC run's settings, plus a 1-epoch schedule
TINY = {**TINY_RUN, 'param_scheduler.0.end': 1}


def write_pipeline(path: str) -> None:
    ood_loader = 'custom_hooks.0.ood_dataloader.'
    woods = {**TINY, 'model.num_clusters': 3, 'model.test_cfg.scales': '[1.0]',
             ood_loader + 'batch_size': 4, ood_loader + 'num_workers': 0,
             ood_loader + 'persistent_workers': False}
    with open(path, 'w') as f:
        f.write(f"""
_base_ = [{osp.join(REPO, 'configs', 'pipelines', 'woods_synthetic.py')!r}]
stages = dict(
    vanilla=dict(options={repr({**TINY, 'model.test_cfg.scales': '[1.0]'})}),
    woods=dict(options={woods!r}),
    # no cams options: the woods stage's model.* options (K = 3) reach the
    # CAM inference, which must build the model the run saved
    cams=dict(compare_vanilla=False),
    affinity_labels=dict(workers=1),
    affinity=dict(options={TINY!r}),
    pseudo_masks=dict(crf=False, workers=1),
    segmentation=None,
    supervised=None)
""")


@pytest.mark.slow
def test_tiny_woods_pipeline_runs_every_stage(tmp_path):
    root = str(tmp_path / 'data')
    generate_synthetic_voc(root, num_train=24, num_val=8, seed=0, num_ood=8)
    config = str(tmp_path / 'woods_tiny.py')
    write_pipeline(config)
    work = str(tmp_path / 'work')
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, 'tools/run_pipeline.py', config, '--data-root',
         root, '--work-dir', work], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert sorted(os.listdir(osp.join(work, '.stages'))) == [
        f'{s}.json' for s in sorted(['vanilla', 'woods', 'cams',
                                     'affinity_labels', 'affinity', 'rw',
                                     'pseudo_masks'])]
    # W-OoD fine-tuned the vanilla run, with centres computed in-process
    assert 'WOoDCentresHook: computed 6 class and 3 OoD centres' in out
    assert 'into WOoD' in out
    # the affinity labels came from the CAMs alone (no saliency stage)
    assert '--sal-dir' not in out
    ids = open(osp.join(root, 'ImageSets', 'Segmentation',
                        'train_aug.txt')).read().split()
    for folder, ext in (('affinity_labels', '.png'),
                        (osp.join('rw', 'train_aug'), '.npz'),
                        ('pseudo_masks', '.png')):
        names = set(os.listdir(osp.join(work, folder)))
        assert {i + ext for i in ids} <= names, folder
    for name in ('cams', 'affinity_labels', 'rw', 'pseudo_masks'):
        with open(osp.join(work, 'metrics', f'{name}.json')) as f:
            metrics = json.load(f)
        assert 0 <= next(v for k, v in metrics.items()
                         if k.endswith('mIoU')) <= 100, name
