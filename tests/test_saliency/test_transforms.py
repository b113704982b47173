"""Loading stored CAMs (C²AM-H hints, the random walk's inputs) and keeping
them aligned with the image through resize / crop / flip; label remapping;
packing."""
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope

from mmwsss.datasets.transforms import (FixedResize, LoadCAMHint, LoadCAMs,
                                        PackWSSSInputs, RandomCropPad,
                                        RandomResizeLongSide, RemapLabels,
                                        cam_loading)
from mmwsss.datasets.transforms.processing import IMAGENET_MEAN_BGR
from mmwsss.registry import TRANSFORMS
from mmwsss.utils.cam_io import cam_path, read_cam, save_cam


def results_for(h: int, w: int, img_id: str = 'a') -> dict:
    img = np.zeros((h, w, 3), np.uint8)
    return dict(img=img, img_id=img_id, img_path=f'/x/{img_id}.jpg',
                img_shape=(h, w), ori_shape=(h, w), seg_fields=[],
                gt_label=np.array([0, 1, 0, 1], np.float32))


def write_cams(tmp_path, img_id, cams, keys):
    save_cam(cam_path(str(tmp_path), img_id), np.asarray(cams, np.float32),
             keys)


def test_hint_is_the_max_over_classes(tmp_path):
    a = np.zeros((6, 8), np.float32)
    b = np.zeros((6, 8), np.float32)
    a[1, 2], b[1, 2], b[4, 5] = 0.2, 0.6, 1.0
    write_cams(tmp_path, 'a', [a, b], [2, 4])
    out = LoadCAMHint(str(tmp_path))(results_for(6, 8))
    hint = out['gt_cam_hint']
    assert hint.shape == (6, 8) and hint.dtype == np.float32
    np.testing.assert_allclose(hint, np.maximum(a, b), atol=0.5 / 255)
    assert 'gt_cam_hint' in out['seg_fields']


def test_no_cam_gives_an_empty_hint(tmp_path):
    write_cams(tmp_path, 'a', np.zeros((0, 6, 8)), [])
    hint = LoadCAMHint(str(tmp_path))(results_for(6, 8))['gt_cam_hint']
    assert hint.shape == (6, 8) and not hint.any()


def test_dense_cams_keep_one_channel_per_class(tmp_path):
    a = np.full((6, 8), 0.2, np.float32)
    b = np.full((6, 8), 0.8, np.float32)
    write_cams(tmp_path, 'a', [a, b], [2, 4])
    cams = LoadCAMs(str(tmp_path))(results_for(6, 8))['gt_cams']
    assert cams.shape == (6, 8, 4)
    np.testing.assert_allclose(cams[0, 0], [0, 0.2, 0, 0.8], atol=0.5 / 255)


def test_keys_layout_keeps_the_files_maps_and_class_ids(tmp_path):
    """reduce='keys': the K maps in the file's order (an all-zero one
    too) and their ids, packed as K×H×W PixelData and a tensor."""
    rng = np.random.default_rng(0)
    maps = rng.random((3, 6, 8)).astype(np.float32)
    maps[1] = 0
    write_cams(tmp_path, 'a', maps, [5, 2, 3])
    res = LoadCAMs(str(tmp_path), reduce='keys')(results_for(6, 8))
    assert res['gt_cams'].shape == (6, 8, 3)
    assert res['gt_cams_keys'].tolist() == [5, 2, 3]
    ds = PackWSSSInputs()(res)['data_samples']
    stored = read_cam(cam_path(str(tmp_path), 'a'))
    np.testing.assert_array_equal(ds.gt_cams.data.numpy(), stored.cams)
    assert ds.gt_cams_keys.tolist() == [5, 2, 3]
    # no class: K=0
    write_cams(tmp_path, 'b', np.zeros((0, 6, 8)), [])
    ds = PackWSSSInputs()(LoadCAMs(str(tmp_path), reduce='keys')(
        results_for(6, 8, 'b')))['data_samples']
    assert tuple(ds.gt_cams.data.shape) == (0, 6, 8)
    assert ds.gt_cams_keys.numel() == 0


def test_coarse_maps_stored_or_resized_with_one_warning(tmp_path,
                                                        monkeypatch):
    """coarse_stride=4: the file's cam_coarse (format 2); without it (e.g.
    format 1) the full-resolution maps resized bilinearly, warned once."""
    rng = np.random.default_rng(1)
    maps = rng.random((2, 9, 10)).astype(np.float32)
    coarse = np.zeros((2, 3, 3), np.float32)
    coarse[:, 0] = 1.0  # unlike the resized maps
    save_cam(cam_path(str(tmp_path), 'a'), maps, [1, 4], coarse, 4)
    save_cam(cam_path(str(tmp_path), 'b'), maps, [1, 4])
    load = LoadCAMs(str(tmp_path), reduce='keys', coarse_stride=4)
    messages = []
    monkeypatch.setattr(cam_loading, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))

    res = load(results_for(9, 10))
    np.testing.assert_array_equal(res['gt_cams_coarse'].transpose(2, 0, 1),
                                  coarse)
    assert 'gt_cams_coarse' not in res['seg_fields']
    assert not messages
    stored = read_cam(cam_path(str(tmp_path), 'b')).cams
    resized = F.interpolate(torch.from_numpy(stored)[None], size=(3, 3),
                            mode='bilinear', align_corners=False)[0].numpy()
    for _ in range(2):
        res = load(results_for(9, 10, 'b'))
        np.testing.assert_array_equal(
            res['gt_cams_coarse'].transpose(2, 0, 1), resized)
    assert len(messages) == 1 and 'b.npz has no stride-4 CAMs' in \
        messages[0]
    ds = PackWSSSInputs()(res)['data_samples']
    assert tuple(ds.gt_cams_coarse.data.shape) == (2, 3, 3)
    with pytest.raises(ValueError, match='coarse_stride'):
        LoadCAMs(str(tmp_path), coarse_stride=0)


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='b.npz'):
        LoadCAMHint(str(tmp_path))(results_for(6, 8, 'b'))
    write_cams(tmp_path, 'a', np.zeros((1, 5, 8)), [1])
    with pytest.raises(ValueError, match='a.npz.*image size'):
        LoadCAMHint(str(tmp_path))(results_for(6, 8))
    with pytest.raises(ValueError, match='reduce'):
        LoadCAMs(str(tmp_path), reduce='mean')


def coordinate_sample(tmp_path, h=40, w=60):
    """An image whose channels encode (x, y) and a hint holding the same
    coordinates, so alignment is checked pixel by pixel."""
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    res = results_for(h, w)
    res['img'] = np.stack([xx * 4, yy * 4, np.zeros_like(xx)], -1)
    write_cams(tmp_path, 'a', [xx / (w - 1), yy / (h - 1)], [1, 2])
    res = LoadCAMs(str(tmp_path), num_classes=2)(res)
    return res, (h, w)


@pytest.mark.parametrize('seed', range(2))
@pytest.mark.parametrize('long_side', [(30, 40), (70, 90)],
                         ids=['padded', 'cropped'])
def test_maps_stay_aligned_through_resize_crop_flip(tmp_path, seed,
                                                    long_side):
    init_default_scope('mmwsss')
    random.seed(seed)
    np.random.seed(seed)
    res, (h, w) = coordinate_sample(tmp_path)
    pipeline = [
        RandomResizeLongSide(*long_side, interpolation='bilinear'),
        RandomCropPad((48, 48)),
        TRANSFORMS.build(dict(type='RandomFlip', prob=1.0)),
    ]
    for t in pipeline:
        res = t(res)
    img, cams = res['img'], res['gt_cams']
    assert cams.shape == (48, 48, 2) and cams.dtype == np.float32
    y0, y1, x0, x1 = res['crop_bbox']
    # where the image was not padded, the maps hold the image's coordinates
    is_pad = np.all(np.isclose(img, IMAGENET_MEAN_BGR), axis=-1)
    valid = ~is_pad
    assert valid.sum() == (y1 - y0) * (x1 - x0)
    np.testing.assert_allclose(cams[..., 0][valid] * (w - 1) * 4,
                               img[..., 0][valid], atol=1.5)
    np.testing.assert_allclose(cams[..., 1][valid] * (h - 1) * 4,
                               img[..., 1][valid], atol=1.5)
    # padding: 0 in the maps (no hint)
    assert is_pad.any() == (long_side[1] < 48)
    assert not cams[is_pad].any()
    # the flip really happened: x decreases along a row
    row = cams[24, :, 0][valid[24]]
    assert row[0] > row[-1]


def test_resize_of_a_float_map_is_bilinear(tmp_path):
    res = results_for(4, 4)
    res['gt_cam_hint'] = np.array([[0, 1, 1, 0]] * 4, np.float32)
    res['gt_seg_map'] = np.array([[0, 3, 3, 0]] * 4, np.uint8)
    res['seg_fields'] = ['gt_cam_hint', 'gt_seg_map']
    out = FixedResize((8, 8))(res)
    hint, seg = out['gt_cam_hint'], out['gt_seg_map']
    assert hint.shape == seg.shape == (8, 8)
    assert len(np.unique(hint)) > 2  # interpolated values
    assert set(np.unique(seg)) == {0, 3}  # labels stay nearest


def test_pack_carries_the_hint_as_pixel_data(tmp_path):
    write_cams(tmp_path, 'a', np.full((1, 6, 8), 0.5), [1])
    res = LoadCAMHint(str(tmp_path))(results_for(6, 8))
    ds = PackWSSSInputs()(res)['data_samples']
    assert tuple(ds.gt_cam_hint.data.shape) == (1, 6, 8)
    assert ds.gt_cam_hint.data.max().item() == pytest.approx(0.5, abs=0.01)
    assert ds.gt_label.tolist() == [0, 1, 0, 1]


def test_remap_labels():
    seg = np.array([[0, 255, 3], [255, 0, 7]], np.uint8)
    out = RemapLabels(mapping={255: 1})(dict(gt_seg_map=seg.copy()))
    assert out['gt_seg_map'].tolist() == [[0, 1, 3], [1, 0, 7]]
    out = RemapLabels(binarize=True)(dict(gt_seg_map=seg.copy()))
    assert out['gt_seg_map'].tolist() == [[0, 255, 1], [255, 0, 1]]
    assert RemapLabels(binarize=True)(dict(x=1)) == dict(x=1)
    with pytest.raises(ValueError, match='exactly one'):
        RemapLabels()
