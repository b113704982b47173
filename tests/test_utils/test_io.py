"""Atomic writes: outputs get the umask-derived mode of ordinary files, an
interrupted write leaves neither a partial file nor a temporary one."""
import os
import stat

import numpy as np
import pytest

from mmwsss.utils.cam_io import save_cam
from mmwsss.utils.io import atomic_path, atomic_write_bytes, save_indexed_png


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize('umask', [0o022, 0o002, 0o077])
def test_outputs_get_the_umask_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write_bytes(str(tmp_path / 'a.bin'), b'x')
        save_indexed_png(str(tmp_path / 'b.png'), np.zeros((2, 3), np.uint8),
                         np.zeros((1, 3), np.uint8))
        save_cam(str(tmp_path / 'c.npz'), np.zeros((1, 2, 2), np.float32),
                 [1])
    finally:
        os.umask(old)
    for name in ('a.bin', 'b.png', 'c.npz'):
        assert mode(tmp_path / name) == 0o666 & ~umask, name


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / 'out.bin'
    target.write_bytes(b'old')
    with pytest.raises(RuntimeError):
        with atomic_path(str(target)) as tmp:
            with open(tmp, 'wb') as f:
                f.write(b'new, partial')
            raise RuntimeError('interrupted')
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['out.bin']


def test_check_label_map_names_where():
    from mmwsss.utils.io import check_label_map
    label = check_label_map([[0, 255], [3, 4]])
    assert isinstance(label, np.ndarray) and label.shape == (2, 2)
    with pytest.raises(ValueError, match=r'^x.png: label map must be 2-D'):
        check_label_map(np.zeros(3), 'x.png')
    with pytest.raises(ValueError,
                       match=r'^label values must lie in 0..255, got -1..2'):
        check_label_map(np.array([[-1, 2]]))


def test_palette_over_replaces_the_first_entries():
    from mmwsss.utils.palette import palette_over, palette_over_voc
    base = np.zeros((4, 3), np.uint8)
    out = palette_over([[1, 2, 3], [4, 5, 6]], base)
    assert out.tolist() == [[1, 2, 3], [4, 5, 6], [0, 0, 0], [0, 0, 0]]
    assert base.sum() == 0  # a copy
    assert palette_over(None, base).tolist() == base.tolist()
    # at most `limit` (and never more than the base) entries
    many = np.full((6, 3), 9)
    assert palette_over(many, base, limit=3)[:, 0].tolist() == [9, 9, 9, 0]
    assert palette_over(many, base)[:, 0].tolist() == [9, 9, 9, 9]
    # the ignore entry 255 keeps its VOC colour
    voc = palette_over_voc(np.full((300, 3), 7))
    assert voc[254].tolist() == [7, 7, 7]
    assert voc[255].tolist() == [224, 224, 192]


def test_read_image_names_the_file_and_how_to_make_it(tmp_path):
    from mmwsss.utils.io import read_image, save_grey_png
    path = str(tmp_path / 'g.png')
    save_grey_png(path, np.array([[0, 7], [255, 1]], np.uint8))
    mode, pixels = read_image(path)
    assert mode == 'L' and pixels.tolist() == [[0, 7], [255, 1]]
    mode, rgb = read_image(path, mode='RGB')
    assert mode == 'RGB' and rgb.shape == (2, 2, 3)
    missing = str(tmp_path / 'none.png')
    with pytest.raises(FileNotFoundError,
                       match=r'^map not found: .*none.png \(run make\)$'):
        read_image(missing, 'map', hint='run make')
    with pytest.raises(OSError, match='^cannot read mask .*none.png'):
        read_image(missing, 'mask')  # without a hint: unreadable
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not a png')
    with pytest.raises(ValueError, match=r'cannot read map .*bad.png: .* '
                       r'\(run make\)$'):
        read_image(str(bad), 'map', hint='run make', error=ValueError)
