"""Superpixel maps in the data pipeline: loading, staying aligned with the
image through resize / flip / crop-pad, the padding id, the random id
permutation, packing."""
import random

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from mmwsss.datasets.transforms import (LoadSuperpixels, PackWSSSInputs,
                                        RandomCropPad, RandomRescale,
                                        SuperpixelIds)
from mmwsss.registry import TRANSFORMS
from mmwsss.utils.superpixel_io import save_superpixels, superpixel_path

H, W = 40, 48
PAD_COLOUR = 127  # ICD pads images with 127; not a multiple of 3


def block_ids(h: int = H, w: int = W) -> np.ndarray:
    """Superpixels as a function of position: 8×8 blocks of 5×6 pixels,
    ids 0..63."""
    yy, xx = np.mgrid[:h, :w]
    return ((yy * 8 // h) * 8 + xx * 8 // w).astype(np.uint8)


def sample(tmp_path, ids=None, img_id='a') -> dict:
    """Results of an image whose channel 0 is 3 × its superpixel id and
    channels 1, 2 its column and row, with the map written to disk."""
    ids = block_ids() if ids is None else ids
    h, w = ids.shape
    yy, xx = np.mgrid[:h, :w]
    img = np.stack([ids.astype(np.int64) * 3, xx, yy], -1).astype(np.uint8)
    save_superpixels(superpixel_path(str(tmp_path), img_id), ids)
    return dict(img=img, img_id=img_id, img_path=f'/x/{img_id}.jpg',
                img_shape=(h, w), ori_shape=(h, w), seg_fields=[])


def test_load_adds_a_label_seg_field(tmp_path):
    res = LoadSuperpixels(str(tmp_path))(sample(tmp_path))
    assert res['seg_fields'] == ['gt_superpixels']
    sp = res['gt_superpixels']
    assert sp.dtype == np.uint8 and sp.shape == (H, W)
    np.testing.assert_array_equal(sp, block_ids())
    # loading twice does not list the key twice
    res = LoadSuperpixels(str(tmp_path))(res)
    assert res['seg_fields'] == ['gt_superpixels']


def test_load_errors_name_the_file(tmp_path):
    res = sample(tmp_path)
    with pytest.raises(FileNotFoundError, match='b.png.*make_superpixels'):
        LoadSuperpixels(str(tmp_path))(dict(res, img_id='b'))
    small = dict(res, img=res['img'][:10])
    with pytest.raises(ValueError, match=r'a.png: superpixel map size'):
        LoadSuperpixels(str(tmp_path))(small)
    with pytest.raises(ValueError, match=r'a.png: superpixel id 63 >= '
                       'max_regions=32'):
        LoadSuperpixels(str(tmp_path), max_regions=32)(res)
    with pytest.raises(KeyError, match='LoadImageFromFile'):
        LoadSuperpixels(str(tmp_path))(dict(img_id='a'))
    with pytest.raises(ValueError, match='sp_dir'):
        LoadSuperpixels('')


def icd_pipeline(tmp_path, permute: bool):
    """ICD's augmentation: scale 0.5 / 1.5 (nearest, so the image channels
    stay exact), flip, pad with 127 + random crop, padding id, permutation."""
    init_default_scope('mmwsss')
    return [
        LoadSuperpixels(str(tmp_path)),
        RandomRescale(ratios=(0.5, 1.5), interpolation='nearest'),
        TRANSFORMS.build(dict(type='RandomFlip', prob=0.5)),
        RandomCropPad(36, img_pad_val=(PAD_COLOUR, ) * 3),
        SuperpixelIds(permute=permute),
    ]


@pytest.mark.parametrize('seed', range(8))
def test_pipeline_keeps_image_and_superpixels_aligned(tmp_path, seed):
    random.seed(seed)
    np.random.seed(seed)
    res = sample(tmp_path)
    for t in icd_pipeline(tmp_path, permute=False):
        res = t(res)
    img, sp = res['img'], res['gt_superpixels']
    assert img.shape[:2] == sp.shape == (36, 36) and sp.dtype == np.uint8
    pad = sp == 64  # the padding id: the one id stored maps do not use
    assert (img[pad] == PAD_COLOUR).all()
    assert (img[~pad][:, 0] != PAD_COLOUR).all()
    np.testing.assert_array_equal(img[~pad][:, 0], sp[~pad].astype(
        np.float64) * 3)
    # and each map pixel still holds the id of the source pixel the image
    # pixel came from (channels 1, 2: its column and row)
    cols = img[~pad][:, 1].astype(int)
    rows = img[~pad][:, 2].astype(int)
    np.testing.assert_array_equal(sp[~pad], block_ids()[rows, cols])
    if res['scale_factor'][0] < 1:
        assert pad.any()  # 20×24 in a 36×36 crop
    else:
        assert not pad.any()


def test_pipeline_flips_and_pads_across_seeds(tmp_path):
    seen = set()
    for seed in range(12):
        random.seed(seed)
        np.random.seed(seed)
        res = sample(tmp_path)
        for t in icd_pipeline(tmp_path, permute=False):
            res = t(res)
        seen.add((res['flip'], res['scale_factor'][0] < 1))
    assert seen == {(False, False), (False, True), (True, False),
                    (True, True)}


@pytest.mark.parametrize('seed', range(4))
def test_permutation_keeps_the_partition(tmp_path, seed):
    random.seed(seed)
    np.random.seed(seed)
    res = sample(tmp_path)
    for t in icd_pipeline(tmp_path, permute=False)[:-1]:
        res = t(res)
    before = res['gt_superpixels'].copy()
    random.seed(100 + seed)
    after = SuperpixelIds(permute=True)(res)['gt_superpixels']
    assert after.dtype == np.uint8 and after.max() <= 64
    # a bijection between the ids before (255 = padding) and after
    pairs = np.unique(np.stack([before.ravel(), after.ravel()], 1), axis=0)
    assert len(np.unique(pairs[:, 0])) == len(pairs)
    assert len(np.unique(pairs[:, 1])) == len(pairs)
    assert not np.array_equal(pairs[:, 0], pairs[:, 1])  # ids did move


def test_permutation_follows_the_seed():
    ids = block_ids()

    def permuted(seed):
        random.seed(seed)
        return SuperpixelIds()(dict(gt_superpixels=ids))['gt_superpixels']

    np.testing.assert_array_equal(permuted(3), permuted(3))
    assert not np.array_equal(permuted(3), permuted(4))


def test_padding_gets_a_new_id():
    ids = np.array([[0, 5, 255], [7, 255, 255]], np.uint8)
    out = SuperpixelIds(num_ids=9, permute=False)(
        dict(gt_superpixels=ids.copy()))['gt_superpixels']
    np.testing.assert_array_equal(out, [[0, 5, 8], [7, 8, 8]])
    with pytest.raises(ValueError, match='superpixel id 8 >= num_ids - 1'):
        SuperpixelIds(num_ids=9)(
            dict(gt_superpixels=np.where(ids == 7, 8, ids)))
    with pytest.raises(ValueError, match='pad_val=3 is a superpixel id'):
        SuperpixelIds(num_ids=9, pad_val=3)


def test_nearest_resize_keeps_ids(tmp_path):
    random.seed(0)
    res = LoadSuperpixels(str(tmp_path))(sample(tmp_path))
    res = RandomRescale(ratios=(0.73, ))(res)  # bicubic image, nearest map
    sp = res['gt_superpixels']
    assert sp.shape == res['img'].shape[:2] == (29, 35)
    assert set(np.unique(sp)) <= set(range(64))


def test_pack_superpixels(tmp_path):
    random.seed(0)
    res = sample(tmp_path)
    for t in icd_pipeline(tmp_path, permute=True):
        res = t(res)
    res.update(gt_label=np.array([0, 1, 0], np.float32))
    packed = PackWSSSInputs()(res)
    field = packed['data_samples'].gt_superpixels
    assert field.data.dtype == torch.int64 and field.data.shape == (1, 36, 36)
    np.testing.assert_array_equal(field.data[0].numpy(),
                                  res['gt_superpixels'])
    assert packed['inputs'].shape == (3, 36, 36)


def test_rescale_ratios_validation():
    with pytest.raises(ValueError, match='ratios'):
        RandomRescale(ratios=())
    with pytest.raises(ValueError, match='ratios'):
        RandomRescale(ratios=(1.0, 0.0))
    assert 'ratios=(0.5, 1.0)' in repr(RandomRescale(ratios=(0.5, 1)))
