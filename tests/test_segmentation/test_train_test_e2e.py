"""The tiny DeepLabV3+ trains on pseudo-masks made by our tools
(tools/train.py, 2 CPU iterations) and is evaluated with stock IoUMetric and
SegTTAModel through tools/test.py."""
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mmwsss.utils.io import save_indexed_png
from tests.conftest import REPO, run_tool
from .conftest import TINY_CONFIG, read_png

# end-to-end tool runs (subprocesses): deselect with -m 'not slow'
pytestmark = pytest.mark.slow


def test_train_then_test_with_tta(synthetic_root, pseudo_masks, tmp_path,
                                  monkeypatch):
    # One thread: a tiny model gains nothing from more, and spinning OpenMP
    # threads on a busy 2-core machine cost 10-100x.
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    out_dir, _ = pseudo_masks
    work = str(tmp_path / 'work')
    loaders = [
        f'{loader}.dataset.data_root={synthetic_root}'
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    ] + [f'{loader}.num_workers=0' for loader in ('val_dataloader',
                                                  'test_dataloader')]
    log = run_tool([
        'tools/train.py', TINY_CONFIG, '--work-dir', work, '--cfg-options',
        # the one line that plugs pseudo-masks in
        f'train_dataloader.dataset.data_prefix.seg_map_path={out_dir}',
        *loaders, 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'param_scheduler.0.end=2',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=2'
    ])
    assert re.search(r'Iter\(train\) \[2/2\].*loss:', log)
    # validation at iteration 2 on the true masks
    assert re.search(r'Iter\(val\).*mIoU: [\d.]+', log)
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)

    pred_dir = str(tmp_path / 'pred')
    log = run_tool([
        'tools/test.py', TINY_CONFIG, ckpt, '--tta', '--out', pred_dir,
        '--work-dir', str(tmp_path / 'test'), '--cfg-options', *loaders
    ])
    match = re.search(r'Iter\(test\).*mIoU: ([\d.]+)', log)
    assert match and 0 <= float(match.group(1)) <= 100
    # the JSON summary line (read by tools/run_pipeline.py)
    summary = json.loads([line for line in log.splitlines()
                          if line.startswith('{"')][-1])
    assert summary['mIoU'] == pytest.approx(float(match.group(1)), abs=0.01)
    with open(osp.join(synthetic_root, 'ImageSets', 'Segmentation',
                       'val.txt')) as f:
        val_ids = [line.strip() for line in f if line.strip()]
    assert sorted(os.listdir(pred_dir)) == sorted(f'{i}.png'
                                                  for i in val_ids)
    # dense-CRF post-processing without TTA (one-augmentation pipeline)
    crf_dir = str(tmp_path / 'pred_crf')
    log = run_tool([
        'tools/test.py', TINY_CONFIG, ckpt, '--crf', '--out', crf_dir,
        '--work-dir', str(tmp_path / 'test_crf'), '--cfg-options', *loaders
    ])
    match = re.search(r'Iter\(test\).*mIoU: ([\d.]+)', log)
    assert match and 0 <= float(match.group(1)) <= 100
    assert sorted(os.listdir(crf_dir)) == sorted(os.listdir(pred_dir))


def test_out_of_range_pseudo_mask_stops_before_training(
        synthetic_root, pseudo_masks, tmp_path):
    """A class id the segmentor lacks (pseudo-masks of another class list)
    failed mid-run with "Target 37 is out of bounds" naming no file."""
    masks = str(tmp_path / 'masks')
    shutil.copytree(pseudo_masks[0], masks)
    bad = osp.join(masks, sorted(os.listdir(masks))[1])
    mask = read_png(bad).copy()
    mask[:2, :2] = 37
    save_indexed_png(bad, mask, np.zeros((1, 3), np.uint8))
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    proc = subprocess.run([
        sys.executable, 'tools/train.py', TINY_CONFIG, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.data_root={synthetic_root}',
        f'train_dataloader.dataset.data_prefix.seg_map_path={masks}',
        f'val_dataloader.dataset.data_root={synthetic_root}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False'
    ], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    (line, ) = [x for x in proc.stderr.splitlines() if 'error:' in x]
    assert f'{bad}: mask value 37 is not a class index' in line
    assert 'valid values are 0..6 and 255' in line
    assert not glob.glob(str(tmp_path / 'work' / '*.pth'))
