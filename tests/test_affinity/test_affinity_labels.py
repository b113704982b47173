"""Affinity labels (README: random walk) on hand-built CAMs and saliency
maps."""
import numpy as np
import pytest

from mmwsss.crf import DenseCRF
from mmwsss.inference.affinity_labels import (affinity_label_from_cams,
                                              affinity_label_with_saliency,
                                              make_affinity_label)

H, W = 8, 12
KEYS = np.array([3, 5])


def scene():
    """CAMs of classes 3 and 5, a saliency map and the expected labels
    (fg 0.40, bg 0.10, no CRF), region by region (columns)."""
    cams = np.zeros((2, H, W), np.float32)
    sal = np.zeros((H, W), np.float32)
    # cols 0-1: salient, class 3 confident -> 3
    cams[0, :, 0:2], sal[:, 0:2] = 0.9, 1.0
    # cols 2-3: salient, no confident CAM -> 255
    cams[0, :, 2:4], sal[:, 2:4] = 0.2, 0.8
    # cols 4-5: not salient, low CAM -> 0
    cams[1, :, 4:6], sal[:, 4:6] = 0.05, 0.02
    # cols 6-7: not salient but a confident CAM: gated to background -> 0
    cams[1, :, 6:8], sal[:, 6:8] = 0.95, 0.05
    # cols 8-9: salient, both CAMs confident, class 5 higher -> 5
    cams[0, :, 8:10], cams[1, :, 8:10], sal[:, 8:10] = 0.5, 0.8, 0.6
    # col 10: CAM exactly at fg threshold (tie -> background), salient -> 255
    cams[0, :, 10], sal[:, 10] = 0.40, 0.5
    # col 11: saliency exactly at bg threshold (not salient), CAM 0 -> 0
    sal[:, 11] = 0.10
    expected = np.array([3, 3, 255, 255, 0, 0, 0, 0, 5, 5, 255, 0], np.uint8)
    return cams, sal, np.tile(expected, (H, 1))


def test_with_saliency_regions():
    cams, sal, expected = scene()
    got = affinity_label_with_saliency(cams, KEYS, sal, None, crf=None)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(
        make_affinity_label(cams, KEYS, None, sal, crf=None), expected)


def test_without_saliency_regions():
    cams, _, _ = scene()
    got = affinity_label_from_cams(cams, KEYS, None, crf=None)
    # confident (> 0.40) -> class; between 0.10 and 0.40 -> 255;
    # max CAM <= 0.10 -> 0
    expected = np.array([3, 3, 255, 255, 0, 0, 5, 5, 5, 5, 255, 0],
                        np.uint8)
    np.testing.assert_array_equal(got, np.tile(expected, (H, 1)))
    np.testing.assert_array_equal(
        make_affinity_label(cams, KEYS, None, None, crf=None), got)


def reference_labels(cams, keys, sal, fg, bg):
    """The reference's affinity-label step (no CRF), with np.pad + argmax."""
    lut = np.concatenate([[0], keys])
    fg_idx = np.argmax(np.pad(cams, ((1, 0), (0, 0), (0, 0)),
                              constant_values=fg), axis=0)
    if sal is None:
        bg_idx = np.argmax(np.pad(cams, ((1, 0), (0, 0), (0, 0)),
                                  constant_values=bg), axis=0)
        fg_conf, other = lut[fg_idx], lut[bg_idx]
    else:
        other = (sal > bg).astype(np.int64)
        fg_conf = lut[fg_idx * other]
    conf = fg_conf.copy()
    conf[fg_conf == 0] = 255
    conf[(other + fg_conf) == 0] = 0
    return conf


@pytest.mark.parametrize('use_sal', [False, True])
@pytest.mark.parametrize('seed', [0, 1])
def test_matches_reference_pseudo_code(use_sal, seed):
    rng = np.random.default_rng(seed)
    # quantised values so that ties with the thresholds occur
    cams = rng.integers(0, 11, (3, 16, 20)).astype(np.float32) / 10
    keys = np.array([1, 7, 20])
    sal = rng.integers(0, 11, (16, 20)).astype(np.float32) / 10 \
        if use_sal else None
    got = make_affinity_label(cams, keys, None, sal, 0.3, 0.1, crf=None)
    np.testing.assert_array_equal(
        got, reference_labels(cams, keys, sal, 0.3, 0.1))


@pytest.mark.parametrize('use_sal', [False, True])
def test_no_class_gives_all_background(use_sal):
    cams = np.zeros((0, 5, 7), np.float32)
    sal = np.ones((5, 7), np.float32) if use_sal else None
    image = np.zeros((5, 7, 3), np.uint8)
    got = make_affinity_label(cams, np.zeros(0, np.int64), image, sal)
    np.testing.assert_array_equal(got, np.zeros((5, 7), np.uint8))


class SpyCRF(DenseCRF):
    """Records the label count of every CRF call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def infer_labels(self, image, labels, n_labels, gt_prob=0.7,
                     unsure_label=None):
        self.calls.append((int(n_labels), gt_prob))
        return super().infer_labels(image, labels, n_labels, gt_prob,
                                    unsure_label)


def two_colour_scene():
    """Left half dark, right half bright; the right half is salient and
    has a confident class-3 CAM, except for a few noisy pixels."""
    h, w = 24, 32
    image = np.zeros((h, w, 3), np.uint8)
    image[:, w // 2:] = 220
    cams = np.zeros((1, h, w), np.float32)
    cams[0, :, w // 2:] = 0.9
    sal = np.zeros((h, w), np.float32)
    sal[:, w // 2:] = 1.0
    noise = (np.array([5, 12, 18]), np.array([20, 25, 28]))
    sal[noise] = 0.0
    cams[0][noise] = 0.0
    return image, cams, sal, noise


def test_crf_passes_with_saliency():
    pytest.importorskip('pydensecrf.densecrf')
    image, cams, sal, noise = two_colour_scene()
    keys = np.array([3])
    plain = affinity_label_with_saliency(cams, keys, sal, image, crf=None)
    assert (plain[noise] == 0).all()  # noisy pixels: not salient, no CAM
    spy = SpyCRF()
    got = affinity_label_with_saliency(
        cams, keys, sal, image, crf=spy, gt_prob=0.7)
    # saliency CRF (2 labels), then the CAM CRF (K + 1 labels)
    assert spy.calls == [(2, 0.7), (2, 0.7)]
    assert (got[noise] == 3).all()  # the CRFs filled them from the region
    assert (got[:, 16:] == 3).all() and (got[:, :16] == 0).all()


def test_crf_passes_without_saliency():
    pytest.importorskip('pydensecrf.densecrf')
    image, cams, _, noise = two_colour_scene()
    keys = np.array([3])
    spy = SpyCRF()
    got = affinity_label_from_cams(cams, keys, image, crf=spy, gt_prob=0.6)
    assert spy.calls == [(2, 0.6), (2, 0.6)]  # fg map, then bg map
    assert (got[noise] == 3).all()
    # the default CRF is the crf_label preset
    np.testing.assert_array_equal(
        affinity_label_from_cams(cams, keys, image, gt_prob=0.6), got)


def test_bad_inputs():
    cams = np.zeros((1, 4, 5), np.float32)
    with pytest.raises(ValueError, match='saliency size'):
        affinity_label_with_saliency(cams, [1], np.zeros((4, 6)), None,
                                     crf=None)
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        affinity_label_with_saliency(cams, [1], np.full((4, 5), 255.0),
                                     None, crf=None)
    with pytest.raises(ValueError, match='image size'):
        affinity_label_from_cams(cams, [1], np.zeros((3, 5, 3), np.uint8))
    with pytest.raises(ValueError, match='class ids'):
        affinity_label_from_cams(cams, [255], None, crf=None)
    with pytest.raises(ValueError, match='needs the image'):
        affinity_label_with_saliency(cams, [1], np.zeros((4, 5)), None)
