"""Which partition of a class-agnostic map is the foreground.

Plain C²AM splits each image into two partitions with nothing telling it
which one holds the objects; it may well learn the background as the
"foreground" map. The reference decides by the image border, where
objects rarely are: if the map's mean over the border exceeds 0.5, the map
is inverted (README: C²AM, ``check_positive``). This module is the one
place that rule lives; :class:`~mmwsss.models.saliency.C2AM` tracks it
during training and applies it at inference.
"""
import torch


def border_mean(prob: torch.Tensor) -> torch.Tensor:
    """Mean of (..., h, w) maps over their border pixels: the average of
    the four edge means (top, bottom, left, right), over all leading
    dimensions. A 0-d tensor."""
    if prob.ndim < 2 or min(prob.shape[-2:]) < 1:
        raise ValueError(f'border_mean needs (..., h, w) maps, got '
                         f'{tuple(prob.shape)}')
    edges = (prob[..., 0, :], prob[..., -1, :], prob[..., :, 0],
             prob[..., :, -1])
    return torch.stack([e.float().mean() for e in edges]).mean()


def is_inverted(border: float, threshold: float = 0.5) -> bool:
    """True when a map whose border mean is ``border`` marks the background
    as foreground (reference: border mean > 0.5)."""
    return float(border) > threshold


def orient(logits: torch.Tensor, inverted: bool) -> torch.Tensor:
    """Saliency logits with the foreground positive: negated when the map
    is inverted (σ(−z) = 1 − σ(z))."""
    return -logits if inverted else logits
