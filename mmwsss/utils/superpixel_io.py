"""Superpixel files: ``{sp_dir}/{img_id}.png``, an 8-bit greyscale PNG of
the image's size holding superpixel ids (lossless and small; ICD's ids are
< 64). Written by ``tools/make_superpixels.py``, read by the
``LoadSuperpixels`` transform.

For the reference's files (24-bit PNGs written by OpenCV, ids in the blue
channel) a 3-channel PNG is read from its blue channel.
"""
import io
import os.path as osp

import numpy as np
from PIL import Image

from mmwsss.utils.io import atomic_write_bytes

SUPERPIXEL_SUFFIX = '.png'
#: ICD's cap on the number of superpixels of an image (ids 0..63).
MAX_REGIONS = 64


def superpixel_path(sp_dir: str, img_id: str,
                    suffix: str = SUPERPIXEL_SUFFIX) -> str:
    """The superpixel file of image ``img_id``."""
    return osp.join(sp_dir, f'{img_id}{suffix}')


def save_superpixels(path: str, ids: np.ndarray) -> None:
    """Save an H×W map of ids in 0..255 as a greyscale PNG, atomically."""
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f'{path}: superpixel map must be 2-D, got '
                         f'{ids.shape}')
    if ids.size and (ids.min() < 0 or ids.max() > 255):
        raise ValueError(f'{path}: superpixel ids must lie in 0..255, got '
                         f'{ids.min()}..{ids.max()}')
    buf = io.BytesIO()
    Image.fromarray(ids.astype(np.uint8), mode='L').save(buf, format='PNG')
    atomic_write_bytes(path, buf.getvalue())


def read_superpixels(path: str) -> np.ndarray:
    """H×W uint8 superpixel ids of ``path`` (a greyscale or index PNG, or
    the blue channel of an RGB one); errors name the file."""
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'superpixel file not found: {path} (make it with '
            'tools/make_superpixels.py)')
    try:
        with Image.open(path) as img:
            if img.mode in ('RGB', 'RGBA'):
                return np.array(img)[..., 2]
            if img.mode not in ('L', 'P'):
                raise ValueError(f'unsupported PNG mode {img.mode!r} (want '
                                 '8-bit greyscale)')
            return np.array(img)
    except (OSError, ValueError) as err:
        raise OSError(f'cannot read superpixels {path}: {err}') from err
