import json
import os

import numpy as np
import pytest
from PIL import Image

from mmwsss.evaluation import CAMIoUMetric
from mmwsss.utils.cam_io import cam_path, load_cam, save_cam
from tests.conftest import load_tool

tool = load_tool('eval_cams')

CONFIG = """
default_scope = 'mmwsss'
test_dataloader = dict(dataset=dict(
    type='BaseSegDataset', data_root={root!r},
    data_prefix=dict(img_path='img', seg_map_path='ann'),
    img_suffix='.png', seg_map_suffix='.png',
    metainfo=dict(classes=('background', 'a', 'b'),
                  palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0]]),
    pipeline=[]))
test_evaluator = dict(type='CAMIoUMetric', threshold=0.5)
"""


@pytest.fixture
def tiny(tmp_path):
    """3 images with GT masks and CAMs, plus a config building them."""
    rng = np.random.default_rng(0)
    for sub in ('img', 'ann'):
        (tmp_path / sub).mkdir()
    cam_dir = tmp_path / 'cams'
    for i in range(3):
        h, w = 10 + i, 14
        gt = rng.integers(0, 3, (h, w)).astype(np.uint8)
        gt[0, 0] = 255
        Image.fromarray(gt, mode='P').save(tmp_path / 'ann' / f'im{i}.png')
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(
            tmp_path / 'img' / f'im{i}.png')
        noisy = np.stack([gt == 1, gt == 2]).astype(np.float32)
        noisy = np.clip(noisy * 0.7 + rng.random((2, h, w)) * 0.4, 0, 1)
        save_cam(cam_path(str(cam_dir), f'im{i}'), noisy, [1, 2])
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(CONFIG.format(root=str(tmp_path)))
    return tmp_path, str(cfg), str(cam_dir)


def expected_metrics(root, cam_dir, **kwargs):
    metric = CAMIoUMetric(num_classes=3, **kwargs)
    for i in range(3):
        cams, keys = load_cam(cam_path(cam_dir, f'im{i}'))
        gt = np.asarray(Image.open(root / 'ann' / f'im{i}.png'))
        metric.results.append(metric.sample_areas(cams, keys, gt))
    return metric.evaluate(3)


def test_eval_cams_matches_metric(tiny, tmp_path, capsys):
    root, cfg, cam_dir = tiny
    curve = tmp_path / 'curve.json'
    assert tool.main([cfg, '--cam-dir', cam_dir, '--curve-out',
                      str(curve)]) == 0
    out = capsys.readouterr().out
    got = json.loads(out.strip().splitlines()[-1])
    expected = expected_metrics(root, cam_dir, threshold=0.5)
    assert got == pytest.approx(expected)
    assert 'cam/mIoU@fixed' in got  # threshold from the config's evaluator
    assert 'split: test_dataloader' in out and '3 with GT' in out
    assert json.loads(curve.read_text())['num_images'] == 3


def test_eval_cams_flags_and_workers(tiny, capsys):
    root, cfg, cam_dir = tiny
    assert tool.main([cfg, '--cam-dir', cam_dir, '--threshold', '0.3',
                      '--no-sweep', '--workers', '2']) == 0
    got = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    expected = expected_metrics(root, cam_dir, threshold=0.3, thresholds=[])
    assert got == pytest.approx(expected)
    assert 'cam/best_threshold' not in got


def test_eval_cams_missing_cam(tiny, capsys):
    root, cfg, cam_dir = tiny
    os.remove(cam_path(cam_dir, 'im1'))
    assert tool.main([cfg, '--cam-dir', cam_dir]) == 1
    err = capsys.readouterr().err
    assert 'im1.npz' in err and 'tools/infer_cams.py' in err
