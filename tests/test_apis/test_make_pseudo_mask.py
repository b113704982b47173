"""mmwsss.apis.make_pseudo_mask on hand-made maps."""
import numpy as np
import pytest
from PIL import Image

from mmwsss.apis import make_pseudo_mask
from mmwsss.utils.cam_io import CAMData, cam_path, save_cam

# class 3 and class 5 maps of a 2×3 image
CAMS = CAMData(
    cams=np.array([[[0.9, 0.6, 0.1], [0.2, 0.0, 0.4]],
                   [[0.5, 0.7, 0.2], [0.1, 0.35, 0.3]]], np.float32),
    keys=np.array([3, 5]))


def test_threshold_then_argmax():
    mask = make_pseudo_mask(CAMS, threshold=0.3)
    assert mask.dtype == np.uint8
    # background (0) where both maps are below 0.3, else the larger map
    assert mask.tolist() == [[3, 5, 0], [0, 5, 3]]
    assert make_pseudo_mask(CAMS, threshold=0.8).tolist() == [[3, 0, 0],
                                                             [0, 0, 0]]
    assert not make_pseudo_mask(CAMS, threshold=1.0).any()


def test_reads_a_cam_file(tmp_path):
    path = cam_path(str(tmp_path), 'a')
    save_cam(path, CAMS.cams, CAMS.keys)
    assert make_pseudo_mask(path, 0.3).tolist() == [[3, 5, 0], [0, 5, 3]]


def test_no_maps_is_all_background():
    empty = CAMData(np.zeros((0, 2, 3), np.float32), np.zeros(0, np.int64))
    mask = make_pseudo_mask(empty, 0.3)
    assert mask.shape == (2, 3) and not mask.any()


def two_halves(h=20, w=30):
    """A noisy class-7 map of the right half and a black|white image (RGB)
    whose edge the CRF snaps the mask to."""
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, w // 2:] = 255
    truth = np.zeros((h, w), np.uint8)
    truth[:, w // 2:] = 7
    noise = np.random.default_rng(0).normal(0, 0.25, (h, w))
    cam = np.clip(np.where(truth == 7, 0.8, 0.1) + noise, 0, 1)
    return CAMData(cam[None].astype(np.float32), np.array([7])), rgb, truth


def test_crf_refines_with_the_image(tmp_path):
    pytest.importorskip('pydensecrf.densecrf')
    cams, rgb, truth = two_halves()
    raw = make_pseudo_mask(cams, 0.45)
    refined = make_pseudo_mask(cams, 0.45, image=rgb[..., ::-1],
                               crf='crf_label')
    assert (refined != truth).mean() < (raw != truth).mean()
    assert (refined != truth).mean() < 0.02
    path = str(tmp_path / 'image.png')
    Image.fromarray(rgb).save(path)
    for image, order in ((path, 'bgr'), (rgb, 'rgb')):
        np.testing.assert_array_equal(
            make_pseudo_mask(cams, 0.45, image=image, crf='crf_label',
                             channel_order=order), refined)


def test_bad_inputs_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r'outside \[0, 1\]'):
        make_pseudo_mask(CAMS, 30)
    with pytest.raises(ValueError, match='needs the image'):
        make_pseudo_mask(CAMS, 0.3, crf='crf_label')
    with pytest.raises(ValueError, match='size'):
        make_pseudo_mask(CAMS, 0.3, image=np.zeros((4, 4, 3), np.uint8),
                         crf='crf_label')
    with pytest.raises(FileNotFoundError, match='missing.jpg'):
        make_pseudo_mask(CAMS, 0.3, image=str(tmp_path / 'missing.jpg'),
                         crf='crf_label')
    with pytest.raises(FileNotFoundError, match='infer_cams'):
        make_pseudo_mask(str(tmp_path / 'none.npz'), 0.3)
    with pytest.raises(ValueError, match='class ids'):
        make_pseudo_mask(CAMData(CAMS.cams, np.array([3, 255])), 0.3)
