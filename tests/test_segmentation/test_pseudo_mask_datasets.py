"""Pseudo-mask PNGs written by tools/make_pseudo_masks.py load through
MMSeg's own datasets (and mmwsss's COCO14SegDataset) unchanged."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image

from mmwsss.datasets import COCO14_CLASSES, COCO14SegDataset
from mmwsss.synthetic import SYNTHETIC_CLASSES
from mmwsss.utils.palette import make_palette
from mmwsss.utils.io import save_indexed_png
from .conftest import TINY_CONFIG, read_png

LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


def build(cfg: dict):
    from mmseg.registry import DATASETS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(cfg)


def check_masks(ds, expected: dict) -> None:
    assert len(ds) == len(expected)
    for i in (0, len(ds) - 1):
        results = ds[i]
        img_id = osp.splitext(osp.basename(results['seg_map_path']))[0]
        np.testing.assert_array_equal(results['gt_seg_map'],
                                      expected[img_id])
        assert results['img'].shape[:2] == expected[img_id].shape


def test_pseudo_masks_match_the_cams(pseudo_masks):
    out_dir, expected = pseudo_masks
    for img_id, mask in expected.items():
        np.testing.assert_array_equal(
            read_png(osp.join(out_dir, f'{img_id}.png')), mask)


def test_tiny_config_dataset_reads_pseudo_masks(synthetic_root,
                                                pseudo_masks):
    """The config's train set with the one-option override of the mask
    folder (an absolute path wins over data_root)."""
    out_dir, expected = pseudo_masks
    ds_cfg = Config.fromfile(TINY_CONFIG).train_dataloader.dataset
    ds_cfg.update(data_root=synthetic_root, pipeline=LOAD)
    ds_cfg.data_prefix.seg_map_path = out_dir
    ds = build(ds_cfg)
    assert ds.metainfo['classes'] == SYNTHETIC_CLASSES
    check_masks(ds, expected)


def test_stock_pascal_voc_dataset_reads_pseudo_masks(synthetic_root,
                                                     pseudo_masks):
    out_dir, expected = pseudo_masks
    ds = build(
        dict(type='PascalVOCDataset', data_root=synthetic_root,
             ann_file='ImageSets/Segmentation/train_aug.txt',
             data_prefix=dict(img_path='JPEGImages', seg_map_path=out_dir),
             pipeline=LOAD))
    assert len(ds.metainfo['classes']) == 21
    check_masks(ds, expected)


def test_stock_pascal_voc_dataset_refuses_other_classes(synthetic_root):
    """Why the synthetic config uses BaseSegDataset: PascalVOCDataset only
    remaps subsets of the VOC classes."""
    with pytest.raises(ValueError, match='not a subset'):
        build(
            dict(type='PascalVOCDataset', data_root=synthetic_root,
                 ann_file='ImageSets/Segmentation/val.txt',
                 data_prefix=dict(img_path='JPEGImages',
                                  seg_map_path='SegmentationClass'),
                 metainfo=dict(classes=SYNTHETIC_CLASSES,
                               palette=[list(c)
                                        for c in make_palette(
                                            len(SYNTHETIC_CLASSES))])))


@pytest.fixture
def coco_root(tmp_path):
    """Two val2014 images with masks (GT and pseudo) in COCO14 layout."""
    root = tmp_path / 'coco14'
    rng = np.random.RandomState(0)
    masks = {}
    for image_id, value in ((9, 80), (25, 1)):
        img = rng.randint(0, 255, (20, 30, 3), np.uint8)
        path = root / 'val2014' / f'COCO_val2014_{image_id:012d}.jpg'
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(path)
        mask = np.zeros((20, 30), np.uint8)
        mask[5:15, 10:20] = value
        mask[0, :] = 255
        for folder in ('coco_seg_anno', 'pseudo'):
            save_indexed_png(
                str(root / folder / f'{image_id:012d}.png'), mask,
                np.zeros((256, 3), np.uint8))
        masks[f'{image_id:012d}'] = mask
    (root / 'val2014.txt').write_text(
        '9\nCOCO_val2014_000000000025.jpg\n')
    return str(root), masks


def test_coco14_seg_dataset_from_config(coco_root):
    """The COCO config's dataset entry (``mmwsss.COCO14SegDataset`` from the
    stock ``mmseg`` scope) on a val2014-style layout."""
    root, masks = coco_root
    ds_cfg = Config.fromfile(
        osp.join(osp.dirname(TINY_CONFIG),
                 'deeplabv3plus_r101_coco_pseudo.py')).val_dataloader.dataset
    ds_cfg.update(data_root=root, pipeline=LOAD)
    ds = build(ds_cfg)
    assert isinstance(ds, COCO14SegDataset)
    assert ds.metainfo['classes'] == COCO14_CLASSES
    assert len(ds.metainfo['palette']) == 81
    assert [ds.get_data_info(i)['img_id'] for i in range(2)] == \
        ['000000000009', '000000000025']
    check_masks(ds, masks)
    # pseudo-masks: another seg_map_path
    ds_cfg.data_prefix.seg_map_path = 'pseudo'
    check_masks(build(ds_cfg), masks)


def test_coco14_seg_dataset_errors(tmp_path):
    with pytest.raises(ValueError, match='format string'):
        COCO14SegDataset(ann_file='x.txt', img_name_template='{image}.jpg',
                         lazy_init=True)
    (tmp_path / 'list.txt').write_text('not_an_id\n')
    with pytest.raises(ValueError, match='not a COCO image id'):
        COCO14SegDataset(data_root=str(tmp_path), ann_file='list.txt')
    with pytest.raises(FileNotFoundError, match='ann_file'):
        COCO14SegDataset(data_root=str(tmp_path), ann_file='missing.txt')
