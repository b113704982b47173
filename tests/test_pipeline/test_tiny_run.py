"""tools/run_pipeline.py on a tiny real run: vanilla CAM → P-NOC → CAMs →
pseudo-masks (from the CAMs) → DeepLabV3+, with real tools and models.

A first run stops at a broken segmentation config with a message naming
the stage; after the config is fixed the rerun skips every finished stage
(their outputs untouched) and finishes; a third run does nothing."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests.conftest import REPO

SEG = osp.join(REPO, 'configs', 'segmentation',
               'deeplabv3plus_tiny_synthetic.py')
TINY = {
    'train_dataloader.batch_size': 4,
    'train_dataloader.num_workers': 0,
    'train_dataloader.persistent_workers': False,
    'test_dataloader.num_workers': 0,
    'train_cfg.max_epochs': 1,
}


def options(**extra) -> str:
    return repr({**TINY, **extra})


def write_pipeline(path: str, seg_config: str) -> None:
    """A pipeline config over the demo's, cut down to a tiny run."""
    with open(path, 'w') as f:
        f.write(f"""
_base_ = [{osp.join(REPO, 'configs', 'pipelines', 'pnoc_synthetic.py')!r}]
stages = dict(
    vanilla=dict(options={options(**{
        'param_scheduler.0.end': 1, 'model.test_cfg.scales': '[1.0]'})}),
    pnoc=dict(options={options(**{
        'param_scheduler.generator.0.end': 1,
        'param_scheduler.noc.0.end': 1,
        'model.generator.test_cfg.scales': '[1.0]'})}),
    cams=dict(compare_vanilla=False),
    c2am=None,
    saliency_refine=None,
    affinity=None,
    pseudo_masks=dict(source='cams', threshold=0.25, crf=False, workers=1),
    segmentation=dict(
        config={seg_config!r}, tta=False, crf=False,
        backbone_from_vanilla=True,
        options={{
            'train_dataloader.batch_size': 2,
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False,
            'val_dataloader.num_workers': 0,
            'test_dataloader.num_workers': 0,
            'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
            'param_scheduler.0.end': 2,
            'default_hooks.checkpoint.interval': 2}}),
    supervised=None)
""")


def run_pipeline(config: str, work: str, root: str, *extra: str):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, 'tools/run_pipeline.py', config, '--data-root',
         root, '--work-dir', work, *extra],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    return proc.returncode, proc.stdout + proc.stderr


def mtimes(folder: str) -> dict:
    return {name: os.stat(osp.join(folder, name)).st_mtime_ns
            for name in os.listdir(folder)}


@pytest.mark.slow
def test_tiny_pipeline_fails_resumes_and_skips(synthetic_root, tmp_path):
    work = str(tmp_path / 'work')
    config = str(tmp_path / 'pipeline.py')
    broken = str(tmp_path / 'seg_broken.py')
    with open(broken, 'w') as f:  # a user's typo in the dataset type
        f.write(f'_base_ = [{SEG!r}]\n'
                "train_dataloader = dict(dataset=dict(type='NoSuchSet'))\n")
    write_pipeline(config, broken)

    rc, out = run_pipeline(config, work, synthetic_root)
    assert rc == 1, out[-3000:]
    assert 'pipeline stopped: stage "segmentation" failed' in out
    assert 'NoSuchSet' in out
    done = ['vanilla', 'pnoc', 'cams', 'pseudo_masks']
    for name in done:
        assert osp.isfile(osp.join(work, '.stages', f'{name}.json')), name
    assert not osp.exists(osp.join(work, '.stages', 'segmentation.json'))
    masks = osp.join(work, 'pseudo_masks')
    cams = osp.join(work, 'cams', 'train_aug')
    before = {d: mtimes(d) for d in (masks, cams, osp.join(work, 'pnoc'))}
    assert len(before[masks]) == len(before[cams]) == 24

    write_pipeline(config, SEG)  # the fix
    rc, out = run_pipeline(config, work, synthetic_root)
    assert rc == 0, out[-3000:]
    for name in done:
        assert f'[skip] {name}:' in out, name
    assert '==== stage segmentation' in out
    for folder, stamps in before.items():  # finished stages untouched
        assert mtimes(folder) == stamps, folder
    metrics = {name[:-5] for name in os.listdir(osp.join(work, 'metrics'))}
    assert {'cams', 'pseudo_masks', 'segmentation'} <= metrics

    rc, out = run_pipeline(config, work, synthetic_root)
    assert rc == 0 and '==== stage' not in out
    assert out.count('[skip]') == len(done) + 1
    rc, out = run_pipeline(config, work, synthetic_root, '--list')
    assert rc == 0 and out.count(' done ') == len(done) + 1
