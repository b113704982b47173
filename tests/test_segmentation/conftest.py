"""Pseudo-masks for the segmentation tests, made by the project's own tools:
CAM files (``save_cam``) drawn from the synthetic GT masks, turned into PNGs
by ``tools/make_pseudo_masks.py``."""
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmwsss.utils.cam_io import cam_path, save_cam
from tests.conftest import REPO, load_tool

TINY_CONFIG = osp.join(REPO, 'configs', 'segmentation',
                       'deeplabv3plus_tiny_synthetic.py')


def read_png(path: str) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img)


def train_aug_ids(root: str) -> list:
    with open(osp.join(root, 'ImageSets', 'Segmentation',
                       'train_aug.txt')) as f:
        return [line.strip() for line in f if line.strip()]


@pytest.fixture(scope='session')
def pseudo_masks(synthetic_root, tmp_path_factory):
    """(pseudo-mask folder, {img_id: expected mask}) for train_aug.

    Each present class gets a CAM of 0.9 on its GT pixels and 0.1 elsewhere,
    so at threshold 0.3 the pseudo-mask is the GT with its ignore band made
    background.
    """
    work = tmp_path_factory.mktemp('pseudo')
    cam_dir, out_dir = str(work / 'cams'), str(work / 'masks')
    expected = {}
    for img_id in train_aug_ids(synthetic_root):
        gt = read_png(osp.join(synthetic_root, 'SegmentationClassAug',
                               f'{img_id}.png'))
        keys = [int(k) for k in np.unique(gt) if 0 < k < 255]
        cams = np.stack([np.where(gt == k, 0.9, 0.1) for k in keys]
                        ).astype(np.float32)
        save_cam(cam_path(cam_dir, img_id), cams, keys)
        expected[img_id] = np.where(gt == 255, 0, gt).astype(np.uint8)
    tool = load_tool('make_pseudo_masks')
    assert tool.main(['--cam-dir', cam_dir, '--out-dir', out_dir,
                      '--threshold', '0.3']) == 0
    return out_dir, expected
