"""tools/eval_masks.py: stock IoUMetric on label PNGs, 255 handling."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from tests.conftest import CAM_CONFIG, load_tool


def ids_of(root: str, split: str) -> list:
    with open(osp.join(root, 'ImageSets', 'Segmentation',
                       f'{split}.txt')) as f:
        return [line.strip() for line in f if line.strip()]


def gt_of(root: str, img_id: str) -> np.ndarray:
    with Image.open(osp.join(root, 'SegmentationClassAug',
                             f'{img_id}.png')) as img:
        return np.asarray(img)


def run(root, mask_dir, *extra):
    tool = load_tool('eval_masks')
    return tool.main([
        CAM_CONFIG, '--mask-dir', mask_dir, '--split', 'train',
        '--cfg-options', f'test_dataloader.dataset.data_root={root}', *extra
    ])


def write_masks(root, out, fn):
    os.makedirs(out, exist_ok=True)
    for img_id in ids_of(root, 'train'):
        Image.fromarray(fn(gt_of(root, img_id)).astype(np.uint8)).save(
            osp.join(out, f'{img_id}.png'))


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_gt_masks_score_100_and_background_less(synthetic_root, tmp_path,
                                                 capsys):
    perfect = str(tmp_path / 'perfect')
    write_masks(synthetic_root, perfect, lambda gt: gt)
    assert run(synthetic_root, perfect, '--out',
               str(tmp_path / 'm.json')) == 0
    summary = last_json(capsys)
    assert summary['mask/mIoU'] == pytest.approx(100.0)
    with open(tmp_path / 'm.json') as f:
        assert json.load(f) == summary

    all_bg = str(tmp_path / 'bg')
    write_masks(synthetic_root, all_bg, np.zeros_like)
    assert run(synthetic_root, all_bg) == 0
    assert last_json(capsys)['mask/mIoU'] < 30


def test_ignored_prediction_pixels(synthetic_root, tmp_path, capsys):
    """Foreground marked 255: an error by default, left out (with its
    coverage reported) under --ignore-pred."""
    masks = str(tmp_path / 'ignore_fg')
    write_masks(synthetic_root, masks,
                lambda gt: np.where((gt > 0) & (gt < 255), 255, gt))
    assert run(synthetic_root, masks) == 0
    strict = last_json(capsys)
    assert run(synthetic_root, masks, '--ignore-pred') == 0
    lenient = last_json(capsys)
    assert lenient['mask/coverage'] < 100 == strict['mask/coverage']
    assert lenient['mask/aAcc'] == pytest.approx(100.0)
    assert strict['mask/aAcc'] < 100


def test_missing_and_bad_masks_are_named(synthetic_root, tmp_path, capsys):
    assert run(synthetic_root, str(tmp_path / 'nothing')) == 1
    assert 'masks missing' in capsys.readouterr().err
    bad = str(tmp_path / 'bad')
    write_masks(synthetic_root, bad, lambda gt: np.full_like(gt, 99))
    assert run(synthetic_root, bad) == 1
    assert 'value 99 is not a class id' in capsys.readouterr().err
