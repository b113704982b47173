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
import os.path as osp
from typing import Union

import numpy as np
import torch

from mmwsss.utils.io import read_image, save_grey_png

SALIENCY_SUFFIX = '.png'
FOREGROUND = 255  # value of salient pixels in pseudo-saliency masks


class SaliencyFileError(ValueError):
    """A saliency file exists but is unreadable or not a grey map."""


def saliency_path(out_dir: str, img_id: str) -> str:
    """Path of the saliency map of ``img_id`` in ``out_dir``."""
    return osp.join(out_dir, f'{img_id}{SALIENCY_SUFFIX}')


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
    save_grey_png(path, np.rint(np.clip(sal, 0.0, 1.0) * 255).astype(np.uint8))


def load_saliency(path: str) -> np.ndarray:
    """H×W float32 saliency in [0, 1] (grey PNG / 255).

    RGB(A) files are accepted when their three colour channels are equal
    (grey maps some saliency tools save as RGB); colour images and other
    modes are refused rather than silently converted.

    Raises:
        FileNotFoundError: no such file.
        SaliencyFileError: unreadable, or not a grey map.
    """
    mode, arr = read_image(
        path, 'saliency map', hint='write it with tools/infer_saliency.py; '
        'files are {img_id}.png', error=SaliencyFileError)
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
    save_grey_png(path, mask)
