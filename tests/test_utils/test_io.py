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
