"""Unary energies for the dense CRF, independent of the inference backend.

Both functions return ``C×(H·W)`` float32 negative log-probabilities, the
layout every mean-field backend consumes.
"""
from typing import Optional

import numpy as np

PROB_CLIP = 1e-5


def unary_from_probs(probs: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Unary energy from per-class scores ``C×H×W``.

    ``scale`` < 1 mixes the scores with a uniform distribution
    (``scale·p + (1 − scale)/C``) to soften over-confident inputs; scores are
    then clipped to ``[1e-5, 1]`` and negated in log space. The scores are not
    renormalised: CAM-derived scores (e.g. a constant background next to
    max-normalised CAMs) are used as they are.
    """
    if not 0.0 < scale <= 1.0:
        raise ValueError(f'scale (gt_prob) must lie in (0, 1], got {scale}')
    num_classes = probs.shape[0]
    p = probs.astype(np.float64)
    if scale < 1.0:
        p = scale * p + (1.0 - scale) / num_classes
    p = np.clip(p, PROB_CLIP, 1.0)
    return (-np.log(p)).reshape(num_classes, -1).astype(np.float32)


def unary_from_labels(
        labels: np.ndarray,
        n_labels: int,
        gt_prob: float,
        unsure_mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Unary energy from a hard label map ``H×W`` with values in
    ``[0, n_labels)``.

    A pixel's label gets probability ``gt_prob``, every other label shares
    ``1 − gt_prob`` evenly. Label 0 is an ordinary label (no "unsure" class).
    Pixels where ``unsure_mask`` is true get a uniform distribution instead,
    so the pairwise terms alone decide them.
    """
    if not 0.0 < gt_prob < 1.0:
        raise ValueError(f'gt_prob must lie in (0, 1), got {gt_prob}')
    if n_labels < 2:
        raise ValueError(f'n_labels must be >= 2, got {n_labels}')
    flat = labels.reshape(-1).astype(np.int64)
    energy_other = -np.log((1.0 - gt_prob) / (n_labels - 1))
    energy_label = -np.log(gt_prob)
    unary = np.full((n_labels, flat.size), energy_other, dtype=np.float32)
    if unsure_mask is None:
        unary[flat, np.arange(flat.size)] = energy_label
    else:
        sure = ~unsure_mask.reshape(-1)
        unary[flat[sure], np.flatnonzero(sure)] = energy_label
        unary[:, ~sure] = -np.log(1.0 / n_labels)
    return unary
