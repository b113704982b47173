"""Label smoothing of multi-label targets."""
import torch


def label_smoothing(labels: torch.Tensor, alpha: float) -> torch.Tensor:
    """Multi-label smoothing ``(1 - α)·y + α/2`` (α = 0.1: 0.95 / 0.05)."""
    if not 0.0 <= alpha < 1.0:
        raise ValueError(f'label smoothing must lie in [0, 1), got {alpha}')
    return labels * (1.0 - alpha) + 0.5 * alpha
