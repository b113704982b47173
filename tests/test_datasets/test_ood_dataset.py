"""OoDDataset: layout, all-zero labels, the classification pipeline and the
errors for a wrong layout."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmwsss.datasets import OoDDataset
from mmwsss.registry import DATASETS
from mmwsss.synthetic import SYNTHETIC_CLASSES, generate_synthetic_voc
from mmwsss.utils.errors import ConfigError
from tests.conftest import REPO
from tests.test_datasets.builders import write_image, write_lines

METAINFO = dict(classes=SYNTHETIC_CLASSES)
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizeLongSide', min_size=40, max_size=48),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCropPad', crop_size=(32, 32)),
    dict(type='PackWSSSInputs'),
]


@pytest.fixture(scope='module')
def ood_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('ood') / 'data')
    generate_synthetic_voc(root, num_train=2, num_val=1,
                           image_size=(32, 48), num_ood=4)
    return osp.join(root, 'OoD')


def test_synthetic_layout_and_labels(ood_root):
    ds = OoDDataset(data_root=ood_root, metainfo=METAINFO)
    assert len(ds) == 4
    for i in range(4):
        info = ds.get_data_info(i)
        assert info['img_id'] == f'ood_{i:05d}'
        assert info['img_path'] == osp.join(ood_root, 'JPEGImages',
                                            f'ood_{i:05d}.jpg')
        assert info['seg_map_path'] is None
        assert info['gt_label'].dtype == np.float32
        np.testing.assert_array_equal(info['gt_label'], np.zeros(6))
        assert ds.get_cat_ids(i) == []


def test_built_from_registry_with_pipeline(ood_root):
    init_default_scope('mmwsss')
    ds = DATASETS.build(
        dict(type='OoDDataset', data_root=ood_root, metainfo=METAINFO,
             pipeline=PIPELINE))
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
    label = sample['data_samples'].gt_label
    assert torch.equal(label, torch.zeros(6))
    assert 'gt_sem_seg' not in sample['data_samples']


def test_num_classes_without_metainfo(ood_root):
    ds = OoDDataset(data_root=ood_root, num_classes=20)
    assert ds.get_data_info(0)['gt_label'].shape == (20, )
    assert OoDDataset(data_root=ood_root, metainfo=METAINFO,
                      num_classes=6).num_fg_classes == 6


@pytest.mark.parametrize('kwargs, match', [
    (dict(), 'metainfo=dict\\(classes=...\\).*or num_classes'),
    (dict(metainfo=METAINFO, num_classes=5), 'num_classes=5 but metainfo'),
    (dict(num_classes=0), 'num_classes must be >= 1'),
    (dict(num_classes=3, skip_background_only=True), 'would drop every'),
])
def test_config_errors(ood_root, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        OoDDataset(data_root=ood_root, **kwargs)


def test_missing_root_names_it_and_the_fix(tmp_path):
    root = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError) as err:
        OoDDataset(data_root=root, num_classes=3)
    assert root in str(err.value) and '--num-ood' in str(err.value)
    assert 'ood_list.txt' in str(err.value)


def test_missing_list(tmp_path):
    os.makedirs(tmp_path / 'JPEGImages')
    with pytest.raises(FileNotFoundError) as err:
        OoDDataset(data_root=str(tmp_path), num_classes=3)
    message = str(err.value)
    assert osp.join(str(tmp_path), 'ood_list.txt') in message
    assert '--num-ood' in message and 'OpenImages' in message


def test_missing_image_and_folder(tmp_path):
    root = str(tmp_path)
    write_lines(osp.join(root, 'ood_list.txt'), ['a.jpg', 'b.jpg'])
    with pytest.raises(FileNotFoundError, match='does not exist') as err:
        OoDDataset(data_root=root, num_classes=3)
    assert osp.join(root, 'JPEGImages', 'a.jpg') in str(err.value)
    write_image(osp.join(root, 'JPEGImages', 'a.jpg'))
    with pytest.raises(FileNotFoundError,
                       match='1 of 2 images listed') as err:
        OoDDataset(data_root=root, num_classes=3)
    assert osp.join(root, 'JPEGImages', 'b.jpg') in str(err.value)


def test_list_conventions(tmp_path):
    """Comments and blank lines skipped, suffix added to bare names,
    sub-folders kept in the id, a custom folder, duplicates refused."""
    root = str(tmp_path)
    for name in ('x.png', 'sub/y.jpg', 'z.jpg'):
        write_image(osp.join(root, 'imgs', name))
    write_lines(osp.join(root, 'list.txt'),
                ['# OoD images', 'x.png', '', 'sub/y', 'z.jpg'])
    ds = OoDDataset(data_root=root, ann_file='list.txt',
                    data_prefix=dict(img_path='imgs'), num_classes=2)
    assert [ds.get_data_info(i)['img_id'] for i in range(3)] == [
        'x', 'sub/y', 'z']
    assert ds.get_data_info(1)['img_path'].endswith('sub/y.jpg')
    write_lines(osp.join(root, 'dup.txt'), ['x.png', 'z.jpg', 'x.png'])
    with pytest.raises(ValueError, match="'x' is listed 2 times"):
        OoDDataset(data_root=root, ann_file='dup.txt',
                   data_prefix=dict(img_path='imgs'), num_classes=2)
    write_lines(osp.join(root, 'empty.txt'), ['# nothing'])
    with pytest.raises(ValueError, match='lists no images'):
        OoDDataset(data_root=root, ann_file='empty.txt',
                   data_prefix=dict(img_path='imgs'), num_classes=2)


def test_base_configs(ood_root):
    """The OoD data configs build on the synthetic OoD layout."""
    init_default_scope('mmwsss')
    base = osp.join(REPO, 'configs', '_base_', 'datasets')
    cfg = Config.fromfile(osp.join(base, 'synthetic_ood.py'))
    ds = DATASETS.build(dict(cfg.ood_dataset, data_root=ood_root))
    assert len(ds) == 4 and tuple(ds[0]['inputs'].shape) == (3, 64, 64)
    loader = Runner.build_dataloader(
        dict(cfg.ood_dataloader, num_workers=0, persistent_workers=False,
             batch_size=2,
             dataset=dict(cfg.ood_dataloader.dataset, data_root=ood_root)),
        seed=0)
    assert len(loader) == 2
    voc = Config.fromfile(osp.join(base, 'voc12_ood.py'))
    assert voc.ood_dataset.data_prefix.img_path == 'OoD_images'
    ds = DATASETS.build(
        dict(voc.ood_dataset, data_root=ood_root, pipeline=[],
             data_prefix=dict(img_path='JPEGImages')))
    assert ds.get_data_info(0)['gt_label'].shape == (20, )
