"""select_split: list-file splits and splits with their own folders."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmwsss.utils.tool_utils import select_split
from tests.conftest import REPO


def test_voc_split_is_a_list_file():
    cfg = Config.fromfile(osp.join(REPO, 'configs/cam/cam_rs269_voc.py'))
    prefix = dict(cfg.test_dataloader.dataset.data_prefix)
    select_split(cfg, 'train_aug')
    assert cfg.test_dataloader.dataset.ann_file == \
        'ImageSets/Segmentation/train_aug.txt'
    assert dict(cfg.test_dataloader.dataset.data_prefix) == prefix


def test_coco_split_switches_folders_and_names():
    cfg = Config.fromfile(osp.join(REPO, 'configs/cam/cam_rs269_coco.py'))
    assert cfg.test_dataloader.dataset.data_prefix.img_path == 'val2014'
    select_split(cfg, 'train')
    ds = cfg.test_dataloader.dataset
    assert ds.ann_file == 'train2014.txt'
    assert ds.data_prefix.img_path == 'train2014'
    assert ds.img_name_template == 'COCO_train2014_{:012d}'
    select_split(cfg, 'val', 'train_dataloader')
    assert cfg.train_dataloader.dataset.data_prefix.img_path == 'val2014'


def test_unknown_split_lists_the_known_ones():
    cfg = Config.fromfile(osp.join(REPO, 'configs/cam/cam_rs269_coco.py'))
    with pytest.raises(KeyError, match=r'unknown split .nope.*train'):
        select_split(cfg, 'nope')
