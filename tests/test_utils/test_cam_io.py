import os

import numpy as np
import pytest
import torch

from mmwsss.utils.cam_io import (CAMFileError, cam_path, load_cam,
                                 read_cam, save_cam)


def smooth_cams(k: int = 3, h: int = 120, w: int = 160) -> np.ndarray:
    """CAM-like maps: Gaussian blobs, max-normalised per class."""
    yy, xx = np.mgrid[:h, :w]
    rng = np.random.default_rng(0)
    cams = []
    for _ in range(k):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        cam = np.exp(-((yy - cy)**2 + (xx - cx)**2) / (2 * (h / 5)**2))
        cams.append(cam / cam.max())
    return np.stack(cams).astype(np.float32)


def test_round_trip_and_size(tmp_path):
    cams = smooth_cams()
    path = cam_path(str(tmp_path / 'cams'), '2007_000032')
    assert path.endswith(os.path.join('cams', '2007_000032.npz'))
    save_cam(path, torch.from_numpy(cams), torch.tensor([15, 1, 20]))
    loaded, keys = load_cam(path)
    assert loaded.dtype == np.float32 and keys.dtype == np.int64
    assert loaded.shape == cams.shape
    assert keys.tolist() == [15, 1, 20]
    assert np.abs(loaded - cams).max() <= 0.5 / 255 + 1e-6
    assert loaded.min() >= 0 and loaded.max() <= 1
    assert os.path.getsize(path) <= 0.25 * cams.size * 4
    # no temporary files left behind
    assert os.listdir(tmp_path / 'cams') == ['2007_000032.npz']


def test_no_foreground_round_trip(tmp_path):
    path = str(tmp_path / 'a.npz')
    save_cam(path, np.zeros((0, 7, 9), np.float32), np.zeros(0, np.int64))
    cams, keys = load_cam(path)
    assert cams.shape == (0, 7, 9) and keys.shape == (0, )


def test_save_validation(tmp_path):
    path = str(tmp_path / 'a.npz')
    cams = np.full((2, 4, 4), 0.5, np.float32)
    with pytest.raises(ValueError, match='2 keys for 1'):
        save_cam(path, cams[:1], [1, 2])
    with pytest.raises(ValueError, match='distinct'):
        save_cam(path, cams, [0, 2])
    with pytest.raises(ValueError, match='distinct'):
        save_cam(path, cams, [2, 2])
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        save_cam(path, cams * 3, [1, 2])
    with pytest.raises(ValueError, match='K×H×W'):
        save_cam(path, cams[0], [1])
    assert not os.path.exists(path)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='infer_cams'):
        load_cam(str(tmp_path / 'missing.npz'))
    garbage = tmp_path / 'garbage.npz'
    garbage.write_bytes(b'not a zip file')
    with pytest.raises(CAMFileError, match='garbage.npz'):
        load_cam(str(garbage))
    good = tmp_path / 'good.npz'
    save_cam(str(good), smooth_cams(), [1, 2, 3])
    truncated = tmp_path / 'truncated.npz'
    truncated.write_bytes(good.read_bytes()[:len(good.read_bytes()) // 2])
    with pytest.raises(CAMFileError, match='truncated.npz'):
        load_cam(str(truncated))
    other = tmp_path / 'other.npz'
    np.savez(other, x=np.zeros(3))
    with pytest.raises(CAMFileError, match='missing arrays'):
        load_cam(str(other))
    mismatch = tmp_path / 'mismatch.npz'
    np.savez(mismatch, keys=np.array([1, 2], np.int16),
             cam=np.zeros((3, 4, 4), np.uint8), version=np.int64(1))
    with pytest.raises(CAMFileError, match='mismatch.npz'):
        load_cam(str(mismatch))
    future = tmp_path / 'future.npz'
    np.savez(future, keys=np.array([1], np.int16),
             cam=np.zeros((1, 4, 4), np.uint8), version=np.int64(3))
    with pytest.raises(CAMFileError, match='version 3'):
        load_cam(str(future))


def test_version1_files_still_load(tmp_path):
    old = tmp_path / 'v1.npz'
    np.savez(old, keys=np.array([4], np.int16),
             cam=np.full((1, 4, 6), 255, np.uint8), version=np.int64(1))
    data = read_cam(str(old))
    assert data.keys.tolist() == [4] and data.cams.shape == (1, 4, 6)
    assert data.coarse is None and data.coarse_stride is None


def test_coarse_maps_round_trip_and_checks(tmp_path):
    cams = smooth_cams()  # 3 x H x W
    _, height, width = cams.shape
    size = (-(-height // 4), -(-width // 4))
    coarse = np.random.default_rng(0).random((3, *size)).astype(np.float32)
    path = cam_path(str(tmp_path), 'c')
    save_cam(path, cams, [1, 2, 3], coarse, 4)
    data = read_cam(path)
    assert data.coarse_stride == 4 and data.coarse.shape == (3, *size)
    assert np.abs(data.coarse - coarse).max() <= 0.5 / 255 + 1e-6
    # load_cam still returns the full-resolution pair only
    loaded, keys = load_cam(path)
    assert loaded.shape == cams.shape and keys.tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match='coarse_stride'):
        save_cam(path, cams, [1, 2, 3], coarse, None)
    with pytest.raises(ValueError, match=r'⌈H/4⌉'):
        save_cam(path, cams, [1, 2, 3], coarse[:, 1:], 4)
    with pytest.raises(ValueError, match='coarse CAMs'):
        save_cam(path, cams, [1, 2, 3], coarse * 3, 4)
    bad = tmp_path / 'bad.npz'
    np.savez(bad, keys=np.array([1], np.int16),
             cam=np.zeros((1, 8, 8), np.uint8), version=np.int64(2),
             cam_coarse=np.zeros((1, 3, 2), np.uint8),
             coarse_stride=np.int64(4))
    with pytest.raises(CAMFileError, match='bad.npz'):
        read_cam(str(bad))
