"""On-disk format of class activation maps (one file per image).

``{out_dir}/{img_id}.npz`` is written with ``np.savez_compressed`` and holds:

=========  ======  =======  ================================================
array      dtype   shape    meaning
=========  ======  =======  ================================================
``keys``   int16   (K,)     segmentation class id of each map (1..C; 0 is
                            background and is never stored)
``cam``    uint8   (K,H,W)  ``round(cam · 255)`` of the max-normalised CAMs
                            (values in [0, 1]) at image resolution
``version`` int64  ()       format version, currently 2 (1 is read too)
``cam_coarse`` uint8 (K,h,w) optional: the CAMs on the stride-s grid
                            (``h = ceil(H/s)``, ``w = ceil(W/s)``), each map
                            max-normalised on its own, resampled from every
                            TTA scale's output as the reference's stride-4
                            ``cam`` (the random walk's input)
``coarse_stride`` int64 ()  optional: s (4)
=========  ======  =======  ================================================

Quantising to uint8 bounds the error by 0.5/255 ≈ 0.002 (far below any
threshold step) and takes 25 % of the float32 size before compression; the
smooth maps then compress to a few kB per image. K may be 0 (no foreground
class), in which case the map shape still records H×W. Files are written
atomically, so an interrupted run never leaves a truncated file behind.
"""
import io
import os.path as osp
import zipfile
from typing import NamedTuple, Optional, Tuple, Union

import numpy as np
import torch

from mmwsss.utils.io import atomic_write_bytes

CAM_FORMAT_VERSION = 2
#: Versions :func:`read_cam` accepts (1: no coarse maps).
READABLE_VERSIONS = (1, 2)
CAM_SUFFIX = '.npz'


class CAMData(NamedTuple):
    """Contents of one CAM file."""
    cams: np.ndarray  # float32 K×H×W in [0, 1]
    keys: np.ndarray  # int64 (K,) class ids
    coarse: Optional[np.ndarray] = None  # float32 K×⌈H/s⌉×⌈W/s⌉ or None
    coarse_stride: Optional[int] = None  # s, or None


class CAMFileError(ValueError):
    """A CAM file exists but is unreadable or inconsistent."""


def cam_path(out_dir: str, img_id: str) -> str:
    """Path of the CAM file of ``img_id`` in ``out_dir``."""
    return osp.join(out_dir, f'{img_id}{CAM_SUFFIX}')


def _to_numpy(x: Union[np.ndarray, torch.Tensor]) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _quantise(path: str, name: str, maps: np.ndarray) -> np.ndarray:
    """Check maps in [0, 1] and quantise them to uint8."""
    maps = maps.astype(np.float32, copy=False)
    if maps.size and (not np.isfinite(maps).all() or maps.min() < -1e-3
                      or maps.max() > 1 + 1e-3):
        raise ValueError(f'{path}: {name} must be finite and normalised to '
                         f'[0, 1], got range {np.nanmin(maps)}..'
                         f'{np.nanmax(maps)}')
    return np.rint(np.clip(maps, 0.0, 1.0) * 255).astype(np.uint8)


def save_cam(path: str,
             cams: Union[np.ndarray, torch.Tensor],
             keys: Union[np.ndarray, torch.Tensor, list],
             coarse: Union[None, np.ndarray, torch.Tensor] = None,
             coarse_stride: Optional[int] = None) -> None:
    """Quantise and save the CAMs of one image atomically.

    Args:
        path: target ``.npz`` file (see :func:`cam_path`).
        cams: K×H×W floats in [0, 1] (values within 1e-3 outside the range,
            from rounding, are clipped).
        keys: K distinct class ids in 1..32767.
        coarse: optional K×⌈H/s⌉×⌈W/s⌉ maps in [0, 1] on the stride-s grid.
        coarse_stride: s (required with ``coarse``).
    """
    cams = _to_numpy(cams)
    keys = _to_numpy(keys).reshape(-1)
    if cams.ndim != 3:
        raise ValueError(f'{path}: cams must be K×H×W, got {cams.shape}')
    if len(keys) != cams.shape[0]:
        raise ValueError(f'{path}: {len(keys)} keys for {cams.shape[0]} '
                         'CAMs')
    if keys.size and not np.issubdtype(keys.dtype, np.integer):
        raise TypeError(f'{path}: keys must be integers, got {keys.dtype}')
    if keys.size and (keys.min() < 1 or keys.max() > np.iinfo(np.int16).max
                      or len(np.unique(keys)) != len(keys)):
        raise ValueError(f'{path}: keys must be distinct class ids >= 1 '
                         f'(background is not stored), got {keys.tolist()}')
    arrays = dict(
        keys=keys.astype(np.int16),
        cam=_quantise(path, 'cams', cams),
        version=np.int64(CAM_FORMAT_VERSION))
    if coarse is not None:
        coarse = _to_numpy(coarse)
        _check_coarse(path, coarse, coarse_stride, cams.shape)
        arrays.update(
            cam_coarse=_quantise(path, 'coarse CAMs', coarse),
            coarse_stride=np.int64(coarse_stride))
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _check_coarse(path: str, coarse: np.ndarray,
                  stride: Optional[int], shape: Tuple[int, ...]) -> None:
    """The coarse maps must be K×⌈H/s⌉×⌈W/s⌉ for a stride s >= 1."""
    if stride is None or int(stride) < 1:
        raise ValueError(f'{path}: coarse CAMs need coarse_stride >= 1, got '
                         f'{stride}')
    s = int(stride)
    expected = (shape[0], -(-shape[1] // s), -(-shape[2] // s))
    if tuple(coarse.shape) != expected:
        raise ValueError(f'{path}: coarse CAMs must be {expected} (K×⌈H/{s}⌉'
                         f'×⌈W/{s}⌉), got {tuple(coarse.shape)}')


def read_cam(path: str) -> CAMData:
    """Load one CAM file, with its coarse maps when it has them.

    Raises:
        FileNotFoundError: the file does not exist.
        CAMFileError: the file is corrupt, of another version, or its
            arrays are inconsistent.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'CAM file not found: {path} (run tools/infer_cams.py first)')
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {'keys', 'cam', 'version'} - set(data.files)
            if missing:
                raise CAMFileError(f'{path}: not a CAM file, missing arrays '
                                   f'{sorted(missing)}')
            version = int(data['version'])
            keys = data['keys']
            cam = data['cam']
            coarse = data['cam_coarse'] if 'cam_coarse' in data.files \
                else None
            stride = int(data['coarse_stride']) \
                if 'coarse_stride' in data.files else None
    except CAMFileError:
        raise
    except (OSError, ValueError, EOFError, KeyError,
            zipfile.BadZipFile) as err:
        raise CAMFileError(
            f'{path}: corrupt or unreadable CAM file ({err}); delete it and '
            're-run tools/infer_cams.py') from err
    if version not in READABLE_VERSIONS:
        raise CAMFileError(f'{path}: CAM format version {version}, expected '
                           f'one of {READABLE_VERSIONS}')
    if cam.dtype != np.uint8 or cam.ndim != 3:
        raise CAMFileError(f'{path}: cam must be uint8 K×H×W, got '
                           f'{cam.dtype} {cam.shape}')
    if keys.ndim != 1 or len(keys) != cam.shape[0]:
        raise CAMFileError(f'{path}: {keys.shape} keys for {cam.shape[0]} '
                           'CAMs')
    if coarse is not None:
        if coarse.dtype != np.uint8:
            raise CAMFileError(f'{path}: cam_coarse must be uint8, got '
                               f'{coarse.dtype}')
        try:
            _check_coarse(path, coarse, stride, cam.shape)
        except ValueError as err:
            raise CAMFileError(str(err)) from err
        coarse = coarse.astype(np.float32) / 255.0
    return CAMData(cam.astype(np.float32) / 255.0, keys.astype(np.int64),
                   coarse, stride if coarse is not None else None)


def load_cam(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Load one CAM file.

    Returns:
        ``(cams, keys)``: float32 K×H×W in [0, 1] and int64 (K,) class ids
        (:func:`read_cam` also gives the coarse maps).

    Raises:
        FileNotFoundError: the file does not exist.
        CAMFileError: the file is corrupt, of another version, or its
            arrays are inconsistent.
    """
    data = read_cam(path)
    return data.cams, data.keys
