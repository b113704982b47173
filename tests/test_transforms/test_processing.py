import numpy as np
import pytest

from mmwsss.datasets.transforms import (RandomCropPad, RandomRescale,
                                        RandomResizeLongSide)
from mmwsss.datasets.transforms.processing import IMAGENET_MEAN_BGR


def _results(h=40, w=60):
    img = np.random.RandomState(0).randint(0, 255, (h, w, 3), np.uint8)
    seg = np.zeros((h, w), np.uint8)
    seg[10:20, 5:25] = 3
    return dict(img=img, gt_seg_map=seg, seg_fields=['gt_seg_map'],
                img_shape=(h, w))


@pytest.mark.parametrize('seed', range(5))
def test_resize_long_side_in_range_and_aligned(seed):
    import random
    random.seed(seed)
    out = RandomResizeLongSide(50, 70)(_results())
    h, w = out['img'].shape[:2]
    assert 50 <= max(h, w) <= 70
    assert out['gt_seg_map'].shape == (h, w)
    # nearest resize keeps labels a subset of the input labels
    assert set(np.unique(out['gt_seg_map'])) <= {0, 3}
    assert abs(w / h - 1.5) < 0.1


def test_resize_long_side_rejects_bad_range():
    with pytest.raises(ValueError, match='min_size'):
        RandomResizeLongSide(100, 50)


def test_rescale_factor():
    import random
    random.seed(0)
    out = RandomRescale((2.0, 2.0))(_results(10, 20))
    assert out['img'].shape[:2] == (20, 40)
    assert out['gt_seg_map'].shape == (20, 40)


def test_crop_larger_image_keeps_alignment():
    res = _results(80, 90)
    res['img'][..., 0] = np.arange(90)[None, :]  # column index in channel 0
    res['gt_seg_map'][:] = np.arange(90)[None, :] % 200
    out = RandomCropPad(32)(res)
    assert out['img'].shape == (32, 32, 3)
    assert out['img'].dtype == np.uint8
    np.testing.assert_array_equal(out['img'][..., 0], out['gt_seg_map'])


def test_crop_smaller_image_pads_with_mean_and_ignore():
    import random
    random.seed(1)
    res = _results(20, 30)
    original = res['img'].copy()
    out = RandomCropPad((40, 50))(res)
    img, seg = out['img'], out['gt_seg_map']
    assert img.shape == (40, 50, 3) and img.dtype == np.float32
    y0, y1, x0, x1 = out['crop_bbox']
    assert (y1 - y0, x1 - x0) == (20, 30)
    # the whole original lies somewhere inside the canvas
    valid = seg != 255
    assert valid.sum() == 20 * 30
    ys, xs = np.nonzero(valid)
    oy, ox = ys.min(), xs.min()
    np.testing.assert_array_equal(img[oy:oy + 20, ox:ox + 30],
                                  original.astype(np.float32))
    pad = img[~valid]
    np.testing.assert_allclose(pad, np.tile(IMAGENET_MEAN_BGR, (len(pad), 1)))


def test_pack_wsss_inputs_carries_label_and_mask():
    from mmwsss.datasets.transforms import PackWSSSInputs
    res = _results(8, 8)
    res.update(gt_label=np.array([0, 1, 1], np.float32), img_id='a',
               img_path='a.jpg', ori_shape=(8, 8))
    packed = PackWSSSInputs()(res)
    ds = packed['data_samples']
    assert packed['inputs'].shape == (3, 8, 8)
    assert ds.gt_label.tolist() == [0, 1, 1]
    assert ds.gt_sem_seg.data.shape == (1, 8, 8)
    assert ds.img_id == 'a'


def test_load_optional_annotations_skips_missing_mask():
    from mmwsss.datasets.transforms import LoadOptionalAnnotations
    res = dict(seg_map_path=None, seg_fields=[], reduce_zero_label=False)
    out = LoadOptionalAnnotations()(res)
    assert 'gt_seg_map' not in out


def test_corrupt_image_error_names_the_file(tmp_path):
    from mmcv.transforms import LoadImageFromFile
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'not a jpeg at all')
    with pytest.raises(Exception, match='broken.jpg'):
        LoadImageFromFile()(dict(img_path=str(bad)))
