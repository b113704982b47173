"""Unary energies for the dense CRF, independent of the inference backend.

The numpy functions return ``C×(H·W)`` float32 negative log-probabilities,
the layout :meth:`CRFBackend.infer` consumes; their ``*_tensor`` twins take
and return batched ``B×C×H×W`` torch tensors (any device) for
:meth:`CRFBackend.infer_batch`, with the same values.
"""
from typing import Optional

import numpy as np
import torch

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


def unary_from_probs_tensor(probs: torch.Tensor,
                            scale: float = 1.0) -> torch.Tensor:
    """:func:`unary_from_probs` for a ``B×C×H×W`` tensor; returns a float32
    ``B×C×H×W`` tensor on the same device."""
    if not 0.0 < scale <= 1.0:
        raise ValueError(f'scale (gt_prob) must lie in (0, 1], got {scale}')
    p = probs.to(torch.float32)
    if scale < 1.0:
        p = scale * p + (1.0 - scale) / probs.shape[1]
    return -p.clamp(PROB_CLIP, 1.0).log()


def unary_from_labels_tensor(
        labels: torch.Tensor,
        n_labels: int,
        gt_prob: float,
        unsure_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """:func:`unary_from_labels` for a ``B×H×W`` integer tensor with values
    in ``[0, n_labels)``; returns a float32 ``B×n_labels×H×W`` tensor."""
    if not 0.0 < gt_prob < 1.0:
        raise ValueError(f'gt_prob must lie in (0, 1), got {gt_prob}')
    if n_labels < 2:
        raise ValueError(f'n_labels must be >= 2, got {n_labels}')
    energy_other = float(-np.log((1.0 - gt_prob) / (n_labels - 1)))
    energy_label = float(-np.log(gt_prob))
    batch, height, width = labels.shape
    unary = torch.full((batch, n_labels, height, width), energy_other,
                       dtype=torch.float32, device=labels.device)
    unary.scatter_(1, labels[:, None].to(torch.int64), energy_label)
    if unsure_mask is not None:
        uniform = float(-np.log(1.0 / n_labels))
        unary.masked_fill_(unsure_mask[:, None].to(torch.bool), uniform)
    return unary
