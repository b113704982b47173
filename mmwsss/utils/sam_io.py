"""On-disk format of SAM (segment-anything) masks, one entry per image.

Two layouts are read from a SAM folder, and the first is written:

``{sam_dir}/{img_id}.npz``
    ``np.savez_compressed`` with one array ``masks``: N×H×W ``bool`` (an
    integer array is accepted too, non-zero = inside), one binary mask per
    SAM segment at the image's full resolution; N may be 0. A VOC image
    with ~100 masks takes a few hundred kB compressed.

``{sam_dir}/{img_id}/*.png``
    the folder ``segment-anything``'s ``scripts/amg.py`` writes per image
    (CSRM's reference step 1): one binary PNG per mask (0 / 255, any
    non-zero value counts as inside); other files (``metadata.csv``) are
    ignored. Read only, so masks made by the reference can be reused.

The merge rule (:mod:`mmwsss.inference.sam_merge`) does not depend on the
order of the masks, so neither layout defines one.
"""
import glob
import io
import os.path as osp
import zipfile
from typing import Optional, Tuple

import numpy as np
from PIL import Image

from mmwsss.utils.errors import DataError
from mmwsss.utils.io import atomic_write_bytes

SAM_SUFFIX = '.npz'
SAM_KEY = 'masks'


class SAMFileError(DataError):
    """A SAM mask file exists but is unreadable or of the wrong shape; the
    message names the file."""


def sam_path(sam_dir: str, img_id: str) -> str:
    """Path of the ``.npz`` SAM masks of ``img_id`` in ``sam_dir``."""
    return osp.join(sam_dir, f'{img_id}{SAM_SUFFIX}')


def find_sam_masks(sam_dir: str, img_id: str) -> Optional[str]:
    """The ``.npz`` file or the amg folder holding ``img_id``'s masks (the
    file first), or None when neither exists."""
    path = sam_path(sam_dir, img_id)
    if osp.isfile(path):
        return path
    folder = osp.join(sam_dir, img_id)
    return folder if osp.isdir(folder) else None


def _as_masks(path: str, masks: np.ndarray) -> np.ndarray:
    """``masks`` as N×H×W bool, or a :class:`SAMFileError` naming
    ``path``."""
    if masks.ndim != 3:
        raise SAMFileError(f'{path}: SAM masks must be N×H×W, got shape '
                           f'{masks.shape}')
    if masks.dtype == bool:
        return masks
    if not np.issubdtype(masks.dtype, np.integer):
        raise SAMFileError(f'{path}: SAM masks must be bool (or integer, '
                           f'non-zero = inside), got {masks.dtype}')
    return masks != 0


def save_sam_masks(path: str, masks: np.ndarray) -> None:
    """Save N×H×W binary masks as ``{masks: bool}`` in a compressed
    ``.npz``, atomically."""
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f'{path}: SAM masks must be N×H×W, got shape '
                         f'{masks.shape}')
    buf = io.BytesIO()
    np.savez_compressed(buf, **{SAM_KEY: masks.astype(bool)})
    atomic_write_bytes(path, buf.getvalue())


def _read_npz(path: str) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as data:
            if SAM_KEY not in data.files:
                raise SAMFileError(
                    f'{path}: no "{SAM_KEY}" array (has {data.files}); SAM '
                    f'files hold "{SAM_KEY}": N×H×W bool')
            masks = data[SAM_KEY]
    except SAMFileError:
        raise
    except (OSError, ValueError, EOFError, KeyError,
            zipfile.BadZipFile) as err:
        raise SAMFileError(f'{path}: unreadable SAM mask file ({err}); '
                           'delete it and make it again') from err
    return _as_masks(path, masks)


def _read_amg_folder(folder: str,
                     size: Optional[Tuple[int, int]]) -> np.ndarray:
    files = sorted(glob.glob(osp.join(glob.escape(folder), '*.png')))
    masks = []
    for file in files:
        try:
            with Image.open(file) as img:
                mask = np.asarray(img)
        except (OSError, ValueError, SyntaxError) as err:
            raise SAMFileError(f'{file}: unreadable SAM mask PNG ({err})'
                               ) from err
        if mask.ndim != 2:
            raise SAMFileError(f'{file}: a SAM mask PNG must be one-channel '
                               f'(0 / 255), got shape {mask.shape}')
        if masks and mask.shape != masks[0].shape:
            raise SAMFileError(f'{file}: size {mask.shape} differs from '
                               f'{files[0]} {masks[0].shape}')
        masks.append(mask != 0)
    if not masks:
        if size is None:
            raise SAMFileError(f'{folder}: no SAM mask PNGs in this folder '
                               'and no image size to make an empty mask '
                               'stack of')
        return np.zeros((0, *size), bool)
    return np.stack(masks)


def load_sam_masks(path: str,
                   size: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """N×H×W bool SAM masks of a ``.npz`` file or an amg folder (see the
    module docstring). ``size`` (H, W) is the shape of an amg folder
    without mask PNGs (amg.py writes one when SAM finds no segment).

    Raises:
        FileNotFoundError: no such file or folder.
        SAMFileError: unreadable, or not N×H×W binary masks.
    """
    if osp.isdir(path):
        return _read_amg_folder(path, size)
    if not osp.isfile(path):
        raise FileNotFoundError(f'SAM masks not found: {path}')
    return _read_npz(path)
