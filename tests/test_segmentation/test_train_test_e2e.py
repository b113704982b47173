"""The tiny DeepLabV3+ trains on pseudo-masks made by our tools
(tools/train.py, 2 CPU iterations) and is evaluated with stock IoUMetric and
SegTTAModel through tools/test.py."""
import json
import os
import os.path as osp
import re

import pytest

from tests.conftest import run_tool
from .conftest import TINY_CONFIG


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
