"""The one CAM normalisation used everywhere in mmwsss."""
import torch
import torch.nn.functional as F


def normalize_cam(cam: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """ReLU, then divide each map by its spatial maximum (ψ in the papers).

    Args:
        cam: (..., H, W) raw class activation maps.
        eps: added to the maximum so all-zero maps stay zero.

    Returns:
        Maps of the same shape with values in [0, 1).
    """
    cam = F.relu(cam)
    peak = cam.flatten(-2).max(dim=-1).values[..., None, None]
    return cam / (peak + eps)


def label_smoothing(labels: torch.Tensor, alpha: float) -> torch.Tensor:
    """Multi-label smoothing ``(1 - α)·y + α/2`` (α = 0.1: 0.95 / 0.05)."""
    if not 0.0 <= alpha < 1.0:
        raise ValueError(f'label smoothing must lie in [0, 1), got {alpha}')
    return labels * (1.0 - alpha) + 0.5 * alpha
