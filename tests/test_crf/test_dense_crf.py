import sys

import numpy as np
import pytest

from mmwsss.crf import (CRF_BACKENDS, DenseCRF, build_dense_crf, crf_preset,
                        unary_from_labels, unary_from_probs)

pytest.importorskip('pydensecrf.densecrf')


def two_halves(h: int = 24, w: int = 40, noise: float = 0.15, seed: int = 0):
    """Red left half / blue right half, clean labels and noisy labels."""
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :w // 2] = (200, 40, 40)
    image[:, w // 2:] = (40, 40, 200)
    clean = np.zeros((h, w), np.int64)
    clean[:, w // 2:] = 1
    rng = np.random.default_rng(seed)
    noisy = np.where(rng.random((h, w)) < noise, 1 - clean, clean)
    return image, clean, noisy


def test_presets():
    assert crf_preset('crf_label') == dict(
        iterations=10, gaussian=dict(sxy=3, compat=3),
        bilateral=dict(sxy=50, srgb=5, compat=10))
    assert crf_preset('deeplab_v2')['bilateral'] == dict(
        sxy=67, srgb=3, compat=4)
    assert crf_preset('deeplab_v2')['gaussian'] == dict(sxy=1, compat=3)
    assert crf_preset('crf_softmax')['scale_factor'] == 1.0
    crf_preset('crf_label')['iterations'] = 99  # a copy: presets unchanged
    assert crf_preset('crf_label')['iterations'] == 10
    with pytest.raises(KeyError, match='unknown CRF preset'):
        crf_preset('nope')
    crf = build_dense_crf(dict(preset='deeplab_v2', iterations=3))
    assert crf.iterations == 3 and crf.bilateral['sxy'] == 67
    assert build_dense_crf(None) is None
    assert 'pydensecrf' in CRF_BACKENDS.module_dict


def test_infer_labels_cleans_noise():
    image, clean, noisy = two_halves()
    assert (noisy != clean).mean() > 0.1
    out = DenseCRF.from_preset('crf_label').infer_labels(image, noisy, 2)
    assert out.shape == clean.shape
    assert (out == clean).mean() > 0.99


def test_infer_probs_returns_normalised_q():
    image, clean, noisy = two_halves()
    probs = np.stack([noisy == 0, noisy == 1]).astype(np.float32)
    probs = 0.35 + 0.3 * probs  # 0.65 for the noisy label, 0.35 else
    q = DenseCRF.from_preset('crf_softmax').infer_probs(image, probs)
    assert q.shape == probs.shape and q.dtype == np.float32
    np.testing.assert_allclose(q.sum(0), 1.0, atol=1e-4)
    assert (q.argmax(0) == clean).mean() > 0.99
    # gt_prob < 1 softens the unary; still a distribution
    q2 = DenseCRF.from_preset('deeplab_v2').infer_probs(image, probs, 0.8)
    np.testing.assert_allclose(q2.sum(0), 1.0, atol=1e-4)


def test_unsure_pixels_follow_neighbours():
    image, clean, _ = two_halves(noise=0.0)
    labels = clean.copy()
    labels[:, 16:24] = 255  # a band around the edge without labels
    crf = DenseCRF()
    with pytest.raises(ValueError, match='unsure_label'):
        crf.infer_labels(image, labels, 2)
    out = crf.infer_labels(image, labels, 2, unsure_label=255)
    assert (out == clean).mean() > 0.99


def test_input_validation():
    image, clean, _ = two_halves()
    crf = DenseCRF(iterations=1)
    with pytest.raises(TypeError, match='uint8'):
        crf.infer_labels(image.astype(np.float32), clean, 2)
    with pytest.raises(ValueError, match='H×W×3'):
        crf.infer_labels(image[..., 0], clean, 2)
    with pytest.raises(ValueError, match='labels must be H×W'):
        crf.infer_labels(image, clean[:5], 2)
    with pytest.raises(TypeError, match='integers'):
        crf.infer_labels(image, clean.astype(float), 2)
    with pytest.raises(ValueError, match='n_labels'):
        crf.infer_labels(image, clean * 0, 1)
    with pytest.raises(ValueError, match='gt_prob'):
        crf.infer_labels(image, clean, 2, gt_prob=1.0)
    with pytest.raises(ValueError, match='probs must be C×H×W'):
        crf.infer_probs(image, np.ones((2, 3, 3), np.float32))
    with pytest.raises(ValueError, match='at least 2'):
        crf.infer_probs(image, np.ones((1, *clean.shape), np.float32))
    with pytest.raises(KeyError, match='unknown CRF backend'):
        DenseCRF(backend='nope')
    with pytest.raises(ValueError, match='bilateral'):
        DenseCRF(bilateral=dict(sxy=1))
    # non-contiguous or read-only inputs are accepted (copied)
    out = crf.infer_labels(np.asfortranarray(image), clean.T.copy().T, 2)
    assert out.shape == clean.shape
    read_only = image.copy()
    read_only.flags.writeable = False
    assert crf.infer_labels(read_only, clean, 2).shape == clean.shape


def test_missing_pydensecrf_names_the_pip_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, 'pydensecrf', None)
    monkeypatch.setitem(sys.modules, 'pydensecrf.densecrf', None)
    with pytest.raises(ImportError, match='pip install pydensecrf2'):
        DenseCRF()


def test_unaries_match_pydensecrf_utils():
    utils = pytest.importorskip('pydensecrf.utils')
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, (5, 7))
    np.testing.assert_allclose(
        unary_from_labels(labels, 4, 0.7),
        utils.unary_from_labels(labels, 4, 0.7, zero_unsure=False),
        rtol=1e-6)
    probs = rng.random((3, 5, 7)).astype(np.float32)
    for scale in (1.0, 0.6):
        np.testing.assert_allclose(
            unary_from_probs(probs, scale),
            utils.unary_from_softmax(probs, scale=scale), rtol=1e-5)
