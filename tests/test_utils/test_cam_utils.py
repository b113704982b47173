import numpy as np
import pytest
import torch

from mmwsss.utils.cam_utils import (cams_to_index, fg_max_and_index,
                                    index_to_label, sweep_thresholds)


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
