import os

import numpy as np
import pytest
from PIL import Image

from mmwsss.utils.errors import DataError
from mmwsss.utils.sam_io import (SAMFileError, find_sam_masks,
                                 load_sam_masks, sam_path, save_sam_masks)


def test_npz_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    masks = rng.random((5, 7, 9)) < 0.3
    path = sam_path(str(tmp_path / 'sam'), 'img_0')
    assert path.endswith(os.path.join('sam', 'img_0.npz'))
    save_sam_masks(path, masks.astype(np.uint8))
    loaded = load_sam_masks(path)
    assert loaded.dtype == bool
    np.testing.assert_array_equal(loaded, masks)
    assert os.listdir(tmp_path / 'sam') == ['img_0.npz']  # no temp file
    # no masks at all is a valid entry
    save_sam_masks(path, np.zeros((0, 7, 9), bool))
    assert load_sam_masks(path).shape == (0, 7, 9)
    with pytest.raises(ValueError, match='N×H×W'):
        save_sam_masks(path, masks[0])


def test_integer_arrays_are_read_as_non_zero(tmp_path):
    path = str(tmp_path / 'a.npz')
    np.savez(path, masks=np.array([[[0, 255], [1, 0]]], np.uint8))
    assert load_sam_masks(path).tolist() == [[[False, True], [True, False]]]


def test_bad_files_name_the_file(tmp_path):
    path = str(tmp_path / 'bad.npz')
    with open(path, 'wb') as f:
        f.write(b'garbage')
    with pytest.raises(SAMFileError, match='bad.npz'):
        load_sam_masks(path)
    assert issubclass(SAMFileError, DataError)
    np.savez(path, other=np.zeros((1, 2, 2), bool))
    with pytest.raises(SAMFileError, match='no "masks" array'):
        load_sam_masks(path)
    np.savez(path, masks=np.zeros((2, 2), bool))
    with pytest.raises(SAMFileError, match=r'N×H×W.*\(2, 2\)'):
        load_sam_masks(path)
    np.savez(path, masks=np.zeros((1, 2, 2), np.float32))
    with pytest.raises(SAMFileError, match='float32'):
        load_sam_masks(path)
    with pytest.raises(FileNotFoundError, match='nope.npz'):
        load_sam_masks(str(tmp_path / 'nope.npz'))


def test_amg_folders(tmp_path):
    """segment-anything amg.py writes {img_id}/{k}.png (0 / 255) and a
    metadata.csv per image."""
    folder = tmp_path / 'img_0'
    folder.mkdir()
    masks = np.zeros((3, 4, 6), bool)
    masks[0, :2] = masks[1, :, :3] = masks[2, 3, 5] = True
    for k, mask in enumerate(masks):
        Image.fromarray(mask.astype(np.uint8) * 255).save(folder / f'{k}.png')
    (folder / 'metadata.csv').write_text('id,area\n')
    assert find_sam_masks(str(tmp_path), 'img_0') == str(folder)
    np.testing.assert_array_equal(load_sam_masks(str(folder)), masks)
    # the .npz file takes precedence over the folder
    save_sam_masks(sam_path(str(tmp_path), 'img_0'), masks[:1])
    assert find_sam_masks(str(tmp_path), 'img_0').endswith('img_0.npz')
    assert find_sam_masks(str(tmp_path), 'img_1') is None
    # a folder without masks: empty, given the size
    (tmp_path / 'img_2').mkdir()
    assert load_sam_masks(str(tmp_path / 'img_2'), (4, 6)).shape == (0, 4, 6)
    with pytest.raises(SAMFileError, match='no SAM mask PNGs'):
        load_sam_masks(str(tmp_path / 'img_2'))
    # masks of different sizes, and colour PNGs
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(folder / '9.png')
    with pytest.raises(SAMFileError, match='9.png'):
        load_sam_masks(str(folder))
    os.remove(folder / '9.png')
    Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(folder / '8.png')
    with pytest.raises(SAMFileError, match='8.png.*one-channel'):
        load_sam_masks(str(folder))
