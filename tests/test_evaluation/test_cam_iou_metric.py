import json

import numpy as np
import pytest
import torch
from mmseg.evaluation import IoUMetric

from mmwsss.evaluation import CAMIoUMetric
from mmwsss.utils.cam_utils import cams_to_index, index_to_label

CLASSES = ('background', 'cat', 'dog')


def sample(cams, keys, gt=None, **extra):
    """A data sample as the Evaluator passes it (after ``to_dict()``)."""
    out = dict(
        cams=torch.as_tensor(cams, dtype=torch.float32),
        cam_keys=torch.as_tensor(keys),
        img_path='x.jpg', img_id='x', **extra)
    if gt is not None:
        out['gt_sem_seg'] = dict(data=torch.as_tensor(gt)[None])
    return out


# 2×4 image, class ids 0 (bg), 1, 2; 255 = ignore.
GT = np.array([[0, 0, 1, 1],
               [2, 2, 255, 1]], dtype=np.uint8)
CAMS = np.array([[[0.1, 0.6, 0.9, 0.2],
                  [0.0, 0.0, 0.9, 0.8]],
                 [[0.0, 0.0, 0.0, 0.0],
                  [0.7, 0.3, 0.0, 0.0]]], dtype=np.float32)
KEYS = np.array([1, 2])
# At t = 0.5 the prediction is        and the GT is
#   0 1 1 0                              0 0 1 1
#   2 0 - 1                              2 2 - 1
# class 0: gt {00,01}, pred {00,03,11}: I=1 U=4 -> IoU 1/4, P 1/3, R 1/2
# class 1: gt {02,03,13}, pred {01,02,13}: I=2 U=4 -> IoU 1/2, P 2/3, R 2/3
# class 2: gt {10,11}, pred {10}: I=1 U=2 -> IoU 1/2, P 1, R 1/2
EXPECTED_MIOU = round((1 / 4 + 1 / 2 + 1 / 2) / 3 * 100, 2)  # 41.67
EXPECTED_FG = 50.0
EXPECTED_P = round((1 / 3 + 2 / 3 + 1) / 3 * 100, 2)
EXPECTED_R = round((1 / 2 + 2 / 3 + 1 / 2) / 3 * 100, 2)
EXPECTED_AACC = round(4 / 7 * 100, 2)


def run(metric, samples):
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_fixed_threshold_hand_computed():
    metric = CAMIoUMetric(thresholds=[], threshold=0.5)
    res = run(metric, [sample(CAMS, KEYS, GT)])
    assert res['cam/mIoU'] == EXPECTED_MIOU
    assert res['cam/mIoU@fixed'] == EXPECTED_MIOU
    assert res['cam/mIoU_fg'] == EXPECTED_FG
    assert res['cam/mPrecision'] == EXPECTED_P
    assert res['cam/mRecall'] == EXPECTED_R
    assert res['cam/aAcc'] == EXPECTED_AACC
    assert 'cam/best_threshold' not in res


def test_sweep_and_fixed_together(tmp_path):
    curve_file = tmp_path / 'sub' / 'curve.json'
    metric = CAMIoUMetric(threshold=0.5, output_curve=str(curve_file))
    res = run(metric, [sample(CAMS, KEYS, GT)])
    assert res['cam/mIoU@fixed'] == EXPECTED_MIOU
    assert res['cam/mIoU'] >= res['cam/mIoU@fixed']
    curve = json.loads(curve_file.read_text())
    assert curve['sweep_thresholds'][0] == 0.05
    assert curve['sweep_thresholds'][-1] == 0.95
    assert curve['fixed_threshold'] == 0.5
    i = curve['thresholds'].index(0.5)
    assert curve['mIoU'][i] == EXPECTED_MIOU
    assert curve['IoU'][i] == pytest.approx([0.25, 0.5, 0.5])
    best = curve['thresholds'].index(res['cam/best_threshold'])
    assert curve['mIoU'][best] == res['cam/mIoU'] == max(curve['mIoU'])


def test_sweep_picks_the_right_threshold():
    # foreground CAM 0.77 on the object, 0.32 elsewhere: thresholds in
    # [0.32, 0.77) are perfect; 0.35 is the first such value of the grid.
    gt = np.zeros((6, 6), np.uint8)
    gt[1:4, 2:5] = 2
    cam = np.where(gt == 2, 0.77, 0.32).astype(np.float32)[None]
    metric = CAMIoUMetric()
    res = run(metric, [sample(cam, [2], gt)])
    assert res['cam/best_threshold'] == 0.35
    assert res['cam/mIoU'] == 100.0
    # class 1 never occurs: excluded (nanmean) as in mmseg's IoUMetric
    assert res['cam/mIoU_fg'] == 100.0


def test_sample_without_gt_is_skipped():
    metric = CAMIoUMetric(thresholds=[], threshold=0.5)
    noisy = np.ones_like(CAMS)
    res = run(metric, [sample(noisy, KEYS), sample(CAMS, KEYS, GT)])
    assert res['cam/mIoU'] == EXPECTED_MIOU
    # no GT at all: nothing to score, no crash
    assert run(CAMIoUMetric(), [sample(CAMS, KEYS)]) == {}


def test_no_cams_means_background_everywhere():
    metric = CAMIoUMetric(thresholds=[], threshold=0.5)
    res = run(metric, [sample(np.zeros((0, 2, 4)), np.zeros(0, int), GT)])
    # bg: gt 2 px, pred 7 px -> IoU 2/7; classes 1, 2 -> IoU 0
    assert res['cam/mIoU'] == round(2 / 7 / 3 * 100, 2)


def test_matches_stock_iou_metric():
    rng = np.random.default_rng(0)
    samples, stock_samples = [], []
    for _ in range(4):
        h, w = rng.integers(10, 20, 2)
        gt = rng.integers(0, 4, (h, w)).astype(np.uint8)
        gt[rng.random((h, w)) < 0.1] = 255
        keys = np.sort(rng.choice([1, 2, 3], 2, replace=False))
        cams = rng.random((2, h, w)).astype(np.float32)
        samples.append(sample(cams, keys, gt))
        pred = index_to_label(cams_to_index(torch.from_numpy(cams), 0.45),
                              torch.from_numpy(keys))
        stock_samples.append(
            dict(pred_sem_seg=dict(data=pred[None]),
                 gt_sem_seg=dict(data=torch.from_numpy(gt)[None])))
    classes = ('bg', 'a', 'b', 'c')
    stock = IoUMetric(iou_metrics=['mIoU', 'mFscore'])
    stock.dataset_meta = dict(classes=classes)
    stock.process({}, stock_samples)
    expected = stock.evaluate(len(stock_samples))
    ours = CAMIoUMetric(thresholds=[0.3, 0.6], threshold=0.45)
    ours.dataset_meta = dict(classes=classes)
    ours.process({}, samples)
    got = ours.evaluate(len(samples))
    assert got['cam/mIoU@fixed'] == expected['mIoU']
    # fixed-only mode reports the fixed threshold's means
    fixed = CAMIoUMetric(thresholds=[], threshold=0.45, prefix='stock')
    fixed.dataset_meta = dict(classes=classes)
    fixed.process({}, samples)
    got = fixed.evaluate(len(samples))
    for key in ('mIoU', 'mPrecision', 'mRecall', 'aAcc'):
        assert got[f'stock/{key}'] == expected[key], key


def test_num_classes_and_validation():
    with pytest.raises(ValueError, match='threshold'):
        CAMIoUMetric(thresholds=[])
    metric = CAMIoUMetric(num_classes=3, thresholds=[], threshold=0.5)
    assert metric.num_classes == 3
    with pytest.raises(ValueError, match='GT size'):
        metric.sample_areas(CAMS, KEYS, GT[:, :3])
    with pytest.raises(ValueError, match='keys'):
        metric.sample_areas(CAMS, np.array([1, 3]), GT)
    with pytest.raises(KeyError, match='cams'):
        metric.process({}, [dict(gt_sem_seg=dict(data=torch.zeros(1, 2, 2)),
                                 img_path='a.jpg')])


def test_registered_in_mmwsss_scope():
    from mmwsss.registry import METRICS
    metric = METRICS.build(
        dict(type='CAMIoUMetric', num_classes=3, threshold=0.3))
    assert isinstance(metric, CAMIoUMetric)


def test_through_mmengine_evaluator_with_seg_data_samples():
    """The contract of the test loop: SegDataSample -> to_dict() -> metric."""
    from mmengine.evaluator import Evaluator
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    samples = []
    for with_gt in (True, False):
        ds = SegDataSample(metainfo=dict(img_path='x.jpg', img_id='x'))
        ds.set_field(torch.from_numpy(CAMS), 'cams')
        ds.set_field(torch.from_numpy(KEYS), 'cam_keys')
        if with_gt:
            ds.gt_sem_seg = PixelData(data=torch.from_numpy(GT)[None])
        samples.append(ds)
    evaluator = Evaluator(CAMIoUMetric(thresholds=[], threshold=0.5))
    evaluator.dataset_meta = dict(classes=CLASSES)
    evaluator.process(samples)
    assert evaluator.evaluate(2)['cam/mIoU'] == EXPECTED_MIOU


def test_crf_refinement_reads_the_image(tmp_path):
    pytest.importorskip('pydensecrf.densecrf')
    from PIL import Image
    h, w = 20, 30
    image = np.zeros((h, w, 3), np.uint8)
    image[:, 15:] = 255
    gt = np.zeros((h, w), np.uint8)
    gt[:, 15:] = 2
    rng = np.random.default_rng(0)
    cam = np.clip(np.where(gt == 2, 0.8, 0.1) + rng.normal(0, 0.25, (h, w)),
                  0, 1)[None]
    Image.fromarray(image).save(tmp_path / 'im.png')
    sam = sample(cam, [2], gt)
    sam['img_path'] = str(tmp_path / 'im.png')
    plain = run(CAMIoUMetric(thresholds=[], threshold=0.45), [sam])
    refined = run(
        CAMIoUMetric(thresholds=[], threshold=0.45,
                     crf=dict(preset='crf_label')), [sam])
    assert refined['cam/mIoU'] > plain['cam/mIoU']
    assert refined['cam/mIoU'] > 99
