"""Superpixel files: ``{sp_dir}/{img_id}.png``, an 8-bit greyscale PNG of
the image's size holding superpixel ids (lossless and small; ICD's ids are
< 64). Written by ``tools/make_superpixels.py``, read by the
``LoadSuperpixels`` transform.

For the reference's files (24-bit PNGs written by OpenCV, ids in the blue
channel) a 3-channel PNG is read from its blue channel.
"""
import os.path as osp

import numpy as np

from mmwsss.utils.io import check_label_map, read_image, save_grey_png

SUPERPIXEL_SUFFIX = '.png'
#: ICD's cap on the number of superpixels of an image (ids 0..63).
MAX_REGIONS = 64


def superpixel_path(sp_dir: str, img_id: str,
                    suffix: str = SUPERPIXEL_SUFFIX) -> str:
    """The superpixel file of image ``img_id``."""
    return osp.join(sp_dir, f'{img_id}{suffix}')


def save_superpixels(path: str, ids: np.ndarray) -> None:
    """Save an H×W map of ids in 0..255 as a greyscale PNG, atomically."""
    ids = check_label_map(ids, path, 'superpixel')
    save_grey_png(path, ids.astype(np.uint8))


def read_superpixels(path: str) -> np.ndarray:
    """H×W uint8 superpixel ids of ``path`` (a greyscale or index PNG, or
    the blue channel of an RGB one); errors name the file."""
    mode, ids = read_image(path, 'superpixel file',
                           hint='make it with tools/make_superpixels.py')
    if mode in ('RGB', 'RGBA'):
        return ids[..., 2]
    if mode not in ('L', 'P'):
        raise OSError(f'cannot read superpixel file {path}: unsupported PNG '
                      f'mode {mode!r} (want 8-bit greyscale)')
    return ids
