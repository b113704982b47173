"""On-disk format of saliency maps and pseudo-saliency masks.

Saliency maps (C²AM/C²AM-H TTA maps, refined-segmentor probabilities) are
``{out_dir}/{img_id}.png``: 8-bit grey PNGs (mode "L") holding
``round(255 · s)`` of the map ``s`` in [0, 1] at full image resolution —
the format PoolNet writes and the affinity-label stage reads
(``PNG / 255``). The quantisation error (≤ 0.5/255) is far below any
threshold step; a 500×375 map takes a few kB.

Pseudo-saliency masks (``tools/make_pseudo_saliency.py``) are grey PNGs
with 0 (background) and 255 (salient), README: C²AM.
"""
import io
import os.path as osp
from typing import Union

import numpy as np
import torch
from PIL import Image

from mmwsss.utils.io import atomic_write_bytes

SALIENCY_SUFFIX = '.png'
FOREGROUND = 255  # value of salient pixels in pseudo-saliency masks


class SaliencyFileError(ValueError):
    """A saliency file exists but is unreadable or not a grey map."""


def saliency_path(out_dir: str, img_id: str) -> str:
    """Path of the saliency map of ``img_id`` in ``out_dir``."""
    return osp.join(out_dir, f'{img_id}{SALIENCY_SUFFIX}')


def _save_grey(path: str, grey: np.ndarray) -> None:
    buf = io.BytesIO()
    Image.fromarray(grey, mode='L').save(buf, format='PNG')
    atomic_write_bytes(path, buf.getvalue())


def save_saliency(path: str, saliency: Union[np.ndarray, torch.Tensor]
                  ) -> None:
    """Save an H×W (or 1×H×W) map in [0, 1] as a grey PNG, atomically."""
    if isinstance(saliency, torch.Tensor):
        saliency = saliency.detach().float().cpu().numpy()
    sal = np.asarray(saliency, np.float32)
    if sal.ndim == 3 and sal.shape[0] == 1:
        sal = sal[0]
    if sal.ndim != 2:
        raise ValueError(f'{path}: saliency must be H×W, got {sal.shape}')
    if sal.size and (not np.isfinite(sal).all() or sal.min() < -1e-3
                     or sal.max() > 1 + 1e-3):
        raise ValueError(f'{path}: saliency must be finite and in [0, 1], '
                         f'got {np.nanmin(sal)}..{np.nanmax(sal)}')
    _save_grey(path, np.rint(np.clip(sal, 0.0, 1.0) * 255).astype(np.uint8))


def load_saliency(path: str) -> np.ndarray:
    """H×W float32 saliency in [0, 1] (grey PNG / 255).

    RGB(A) files are accepted when their three colour channels are equal
    (grey maps some saliency tools save as RGB); colour images and other
    modes are refused rather than silently converted.

    Raises:
        FileNotFoundError: no such file.
        SaliencyFileError: unreadable, or not a grey map.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'saliency map not found: {path} (run tools/infer_saliency.py '
            'first; files are {img_id}.png)')
    try:
        with Image.open(path) as img:
            mode = img.mode
            arr = np.asarray(img)
    except (OSError, ValueError, SyntaxError) as err:
        raise SaliencyFileError(f'{path}: unreadable saliency map ({err}); '
                                'delete it and infer it again') from err
    if mode in ('RGB', 'RGBA'):
        if not ((arr[..., 0] == arr[..., 1]).all()
                and (arr[..., 1] == arr[..., 2]).all()):
            raise SaliencyFileError(f'{path}: a saliency map must be a grey '
                                    'map, got a colour image')
        arr = arr[..., 0]
    elif mode != 'L':
        raise SaliencyFileError(
            f'{path}: a saliency map must be a grey PNG (mode "L"), got '
            f'mode "{mode}"')
    return arr.astype(np.float32) / 255.0


def save_mask(path: str, mask: np.ndarray) -> None:
    """Save an H×W uint8 0/255 pseudo-saliency mask as a grey PNG."""
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f'{path}: mask must be H×W uint8, got '
                         f'{mask.dtype} {mask.shape}')
    _save_grey(path, mask)
