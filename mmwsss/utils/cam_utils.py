"""Pure helpers on CAMs shared by every method: the max-normalisation, and
turning CAMs into label maps.

CAM contract: ``cams`` is K×H×W in [0, 1] (one max-normalised map per present
foreground class) and ``keys`` (length K) holds each map's segmentation class
id (1..C). Background is never stored: it is a constant score ``t`` added at
evaluation time, so a pixel is background unless some CAM is *strictly*
greater than ``t`` (ties go to background, as ``argmax`` over
``[t, cam_1, ..., cam_K]`` picks the first maximum).

The label-map functions accept numpy arrays or torch tensors and return the
same kind they were given; :func:`normalize_cam` works on tensors (it runs
inside the models, with gradients).
"""
from typing import List, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

Array = Union[np.ndarray, torch.Tensor]


#: What :func:`normalize_cam` divides by: each H×W map's own maximum
#: (``'map'``) or one maximum over the whole tensor (``'all'``).
NORM_SCOPES = ('map', 'all')


def normalize_cam(cam: torch.Tensor,
                  eps: float = 1e-5,
                  scope: str = 'map',
                  relu: bool = True) -> torch.Tensor:
    """Max-normalisation of activation maps (ψ in the papers): ReLU, then
    divide by the maximum plus ``eps``; the one implementation in mmwsss.

    Args:
        cam: (..., H, W) maps.
        eps: added to the maximum so all-zero maps stay zero (1e-5, the
            reference's CAMs and erasing masks). 0 divides by the maximum
            itself and leaves a map whose maximum is not positive unchanged
            (the random walk's maps, AdvCAM's activated regions).
        scope: ``'map'``: each H×W map by its own maximum (the CAMs);
            ``'all'``: one maximum over the whole tensor (the random walk's
            ``normalize='global'``, OC-CSE's batch-wide erasing mask).
        relu: clamp negatives first. False for maps that are non-negative
            already (upsampled ReLU'd masks, walked maps, GradCAMs): the
            values would not change, and the ReLU adds no graph node.

    Returns:
        Maps of the same shape, in [0, 1) (``eps`` > 0) or [0, 1].
    """
    if scope not in NORM_SCOPES:
        raise ValueError(f'scope must be one of {NORM_SCOPES}, got {scope!r}')
    if relu:
        cam = F.relu(cam)
    if scope == 'all':
        peak = cam.max()
    else:
        peak = cam.flatten(-2).max(dim=-1).values[..., None, None]
    if eps > 0:
        return cam / (peak + eps)
    return cam / torch.where(peak > 0, peak, torch.ones_like(peak))


def _check_cams(cams: Array) -> None:
    if cams.ndim != 3:
        raise ValueError(f'cams must be K×H×W, got shape {tuple(cams.shape)}')


def fg_max_and_index(cams: Array) -> Tuple[Array, Array]:
    """Per-pixel highest CAM score and its map index (1-based; 0 when K=0).

    Returns ``(score, index)``, both H×W; with no CAM (K=0) the score is
    ``-inf`` everywhere so every threshold yields background.
    """
    _check_cams(cams)
    height, width = cams.shape[1:]
    if isinstance(cams, torch.Tensor):
        if cams.shape[0] == 0:
            return (cams.new_full((height, width), float('-inf')),
                    torch.zeros((height, width), dtype=torch.long,
                                device=cams.device))
        index = cams.argmax(dim=0)
        score = cams.gather(0, index[None])[0]
        return score, index + 1
    cams = np.asarray(cams)
    if cams.shape[0] == 0:
        return (np.full((height, width), -np.inf, dtype=cams.dtype),
                np.zeros((height, width), dtype=np.int64))
    index = cams.argmax(axis=0)
    score = np.take_along_axis(cams, index[None], axis=0)[0]
    return score, index.astype(np.int64) + 1


def threshold_index(score: Array, index: Array, bg_threshold: float) -> Array:
    """Map index (0 = background) from :func:`fg_max_and_index` outputs:
    cheap to repeat for many thresholds."""
    if isinstance(score, torch.Tensor):
        return torch.where(score > bg_threshold, index,
                           torch.zeros_like(index))
    return np.where(score > bg_threshold, index, 0)


def cams_to_index(cams: Array, bg_threshold: float) -> Array:
    """H×W map index in [0, K]: 0 = background, k = ``cams[k-1]``."""
    return threshold_index(*fg_max_and_index(cams), bg_threshold)


def index_to_label(index: Array, keys: Array) -> Array:
    """Map indices (0 = background, k = k-th CAM) to class ids."""
    if isinstance(index, torch.Tensor):
        keys = torch.as_tensor(keys, dtype=torch.long, device=index.device)
        lut = torch.cat([keys.new_zeros(1), keys.reshape(-1)])
        return lut[index]
    lut = np.concatenate([[0], np.asarray(keys, dtype=np.int64).reshape(-1)])
    return lut[index]


def sweep_thresholds(start: float = 0.05,
                     stop: float = 0.95,
                     step: float = 0.05) -> List[float]:
    """Thresholds ``start, start+step, ..., stop`` (``stop`` included when on
    the grid), rounded to 1e-6 so 0.15 prints and compares as 0.15."""
    if step <= 0:
        raise ValueError(f'step must be > 0, got {step}')
    if stop < start:
        raise ValueError(f'stop ({stop}) must be >= start ({start})')
    count = int(np.floor((stop - start) / step + 1e-6)) + 1
    return [round(start + i * step, 6) for i in range(count)]
