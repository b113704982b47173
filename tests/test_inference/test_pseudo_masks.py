import numpy as np
import pytest

from mmwsss.inference.pseudo_masks import make_pseudo_mask
from mmwsss.utils.palette import voc_palette


def test_voc_palette():
    pal = voc_palette()
    assert pal.shape == (256, 3) and pal.dtype == np.uint8
    assert pal[0].tolist() == [0, 0, 0]
    assert pal[1].tolist() == [128, 0, 0]
    assert pal[15].tolist() == [192, 128, 128]
    assert pal[255].tolist() == [224, 224, 192]


def test_threshold_to_ids():
    cams = np.array([[[0.1, 0.9]], [[0.5, 0.2]]], np.float32)
    mask = make_pseudo_mask(cams, [4, 12], 0.3)
    assert mask.dtype == np.uint8
    assert mask.tolist() == [[12, 4]]
    assert make_pseudo_mask(cams, [4, 12], 0.95).tolist() == [[0, 0]]
    empty = make_pseudo_mask(np.zeros((0, 2, 3)), [], 0.3)
    assert empty.shape == (2, 3) and not empty.any()
    with pytest.raises(ValueError, match='class ids'):
        make_pseudo_mask(cams, [4, 255], 0.3)


def test_crf_refines_labels():
    pytest.importorskip('pydensecrf.densecrf')
    h, w = 20, 30
    image = np.zeros((h, w, 3), np.uint8)
    image[:, 15:] = 255
    truth = np.zeros((h, w), np.uint8)
    truth[:, 15:] = 7
    rng = np.random.default_rng(0)
    cam = np.where(truth == 7, 0.8, 0.1) + rng.normal(0, 0.25, (h, w))
    cam = np.clip(cam, 0, 1)[None].astype(np.float32)
    raw = make_pseudo_mask(cam, [7], 0.45)
    assert (raw != truth).mean() > 0.05
    refined = make_pseudo_mask(cam, [7], 0.45, image=image,
                               crf=dict(preset='crf_label'))
    assert (refined == truth).mean() > 0.99
    with pytest.raises(ValueError, match='needs the image'):
        make_pseudo_mask(cam, [7], 0.45, crf=dict(preset='crf_label'))
