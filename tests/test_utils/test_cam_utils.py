import numpy as np
import pytest
import torch

from mmwsss.utils.cam_utils import (cams_to_index, fg_max_and_index,
                                    index_to_label, normalize_cam,
                                    sweep_thresholds)


def cams_to_label(cams, keys, t):
    """Class ids as the pseudo-mask code makes them."""
    return index_to_label(cams_to_index(cams, t), keys)


def test_sweep_thresholds_inclusive_without_drift():
    ts = sweep_thresholds()
    assert len(ts) == 19
    assert ts[0] == 0.05 and ts[-1] == 0.95
    assert ts[2] == 0.15 and ts[5] == 0.3
    assert sweep_thresholds(0.05, 0.8, 0.05)[-1] == 0.8
    assert sweep_thresholds(0.1, 0.1, 0.05) == [0.1]
    with pytest.raises(ValueError):
        sweep_thresholds(step=0)


@pytest.mark.parametrize('kind', ['numpy', 'torch'])
def test_cams_to_label_constant_background(kind):
    cams = np.array([[[0.2, 0.6], [0.9, 0.4]],
                     [[0.1, 0.7], [0.3, 0.4]]], dtype=np.float32)
    keys = np.array([3, 7])
    if kind == 'torch':
        cams, keys = torch.from_numpy(cams), torch.from_numpy(keys)
    label = cams_to_label(cams, keys, 0.4)
    assert type(label) is type(cams)
    # (0,0) below t -> bg; (0,1) class 7; (1,0) class 3;
    # (1,1) tie with t (0.4 vs 0.4) -> background wins ties
    np.testing.assert_array_equal(np.asarray(label), [[0, 7], [3, 0]])
    np.testing.assert_array_equal(
        np.asarray(cams_to_index(cams, 0.4)), [[0, 2], [1, 0]])


def test_matches_argmax_over_padded_background():
    rng = np.random.default_rng(0)
    cams = (rng.integers(0, 256, (3, 16, 16)) / 255).astype(np.float32)
    keys = np.array([1, 5, 9])
    for t in sweep_thresholds():
        padded = np.concatenate([np.full((1, 16, 16), t, np.float32), cams])
        expected = np.array([0, 1, 5, 9])[padded.argmax(0)]
        np.testing.assert_array_equal(cams_to_label(cams, keys, t), expected)


@pytest.mark.parametrize('kind', ['numpy', 'torch'])
def test_no_cams_is_all_background(kind):
    cams = np.zeros((0, 3, 5), np.float32)
    keys = np.zeros((0, ), np.int64)
    if kind == 'torch':
        cams, keys = torch.from_numpy(cams), torch.from_numpy(keys)
    label = cams_to_label(cams, keys, 0.0)
    assert tuple(label.shape) == (3, 5)
    assert (np.asarray(label) == 0).all()
    score, _ = fg_max_and_index(cams)
    assert np.isneginf(np.asarray(score)).all()


def test_shape_errors():
    with pytest.raises(ValueError, match='K×H×W'):
        cams_to_index(np.zeros((4, 4)), 0.5)


def test_normalize_cam_relu_and_max():
    cam = torch.tensor([[[[-1.0, 2.0], [4.0, 0.0]]]])
    out = normalize_cam(cam)
    expected = torch.tensor([[[[0.0, 0.5], [1.0, 0.0]]]]) * 4 / (4 + 1e-5)
    assert torch.allclose(out, expected)
    assert torch.equal(normalize_cam(torch.zeros(2, 3, 4, 4)),
                       torch.zeros(2, 3, 4, 4))


def test_normalize_cam_scopes_eps_and_relu():
    """Hand-computed: two 2×2 maps with maxima 4 and 2 (and one negative
    value), one maximum 4 over both; an all-zero map."""
    cam = torch.tensor([[[-1.0, 2.0], [4.0, 0.0]],
                        [[1.0, 2.0], [0.5, 0.0]]])
    # per map, eps 0: exact divisions by 4 and 2
    assert torch.equal(normalize_cam(cam, eps=0),
                       torch.tensor([[[0.0, 0.5], [1.0, 0.0]],
                                     [[0.5, 1.0], [0.25, 0.0]]]))
    # one maximum (4) over the whole tensor
    assert torch.equal(normalize_cam(cam, eps=0, scope='all'),
                       torch.tensor([[[0.0, 0.5], [1.0, 0.0]],
                                     [[0.25, 0.5], [0.125, 0.0]]]))
    # default eps: x / (max + 1e-5)
    assert torch.equal(normalize_cam(cam, scope='all'),
                       torch.relu(cam) / (4.0 + 1e-5))
    # no ReLU: negatives stay (for maps that are non-negative anyway)
    assert normalize_cam(cam, eps=0, relu=False)[0, 0, 0] == -0.25
    # eps 0 leaves an all-zero map zero (no 0/0)
    zero = torch.zeros(1, 2, 2)
    assert torch.equal(normalize_cam(zero, eps=0), zero)
    assert torch.equal(normalize_cam(zero, eps=0, scope='all'), zero)
    with pytest.raises(ValueError, match='scope'):
        normalize_cam(cam, scope='class')
