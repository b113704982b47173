"""Multi-scale + flip test-time augmentation for dense maps (CAMs, saliency).

One implementation shared by every method: a ``forward_fn`` maps a batch of
normalised images to dense maps; each scale runs one forward pass with the
image and its horizontal flip batched together.
"""
import math
from typing import Callable, Sequence, Tuple

import torch
import torch.nn.functional as F

DenseForward = Callable[[torch.Tensor], torch.Tensor]


def resize_image(inputs: torch.Tensor, scale: float) -> torch.Tensor:
    """Resize a normalised NCHW batch by ``scale`` (bicubic; antialiased when
    shrinking, like PIL's resize used by the reference)."""
    if scale == 1.0:
        return inputs
    h, w = inputs.shape[-2:]
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(
        inputs, size=size, mode='bicubic', align_corners=False,
        antialias=scale < 1.0)


def upsample_to(maps: torch.Tensor, size: Tuple[int, int],
                stride: int) -> torch.Tensor:
    """Bilinearly upsample stride-``stride`` maps to an image of ``size``.

    As the reference: resize to the stride-aligned size
    ``ceil(H/stride)·stride`` and crop to ``size``, so map cells stay aligned
    with the image grid.
    """
    h, w = size
    up = (math.ceil(h / stride) * stride, math.ceil(w / stride) * stride)
    maps = F.interpolate(maps, size=up, mode='bilinear', align_corners=False)
    return maps[..., :h, :w]


def multi_scale_flip_forward(forward_fn: DenseForward,
                             inputs: torch.Tensor,
                             scales: Sequence[float] = (1.0, 0.5, 1.5, 2.0),
                             flip: bool = True,
                             stride: int = 16,
                             out_size: Tuple[int, int] = None,
                             activation: Callable = F.relu) -> torch.Tensor:
    """Sum of ``activation(forward_fn(x))`` over scales (and flips).

    Args:
        forward_fn: normalised images (N, 3, h, w) → maps (N, C, h', w').
        inputs: (B, 3, H, W) normalised images (one size per batch).
        scales: image scale factors.
        flip: also run the horizontally flipped image (in the same batch).
        stride: output stride of ``forward_fn`` (for alignment).
        out_size: size of the returned maps; defaults to (H, W).
        activation: applied to every pass before summing (ReLU for CAMs).

    Returns:
        (B, C, *out_size) summed maps.
    """
    if not scales:
        raise ValueError('multi_scale_flip_forward needs at least one scale')
    out_size = tuple(out_size or inputs.shape[-2:])
    b = inputs.shape[0]
    total = None
    for scale in scales:
        x = resize_image(inputs, scale)
        if flip:
            x = torch.cat([x, x.flip(-1)], dim=0)
        maps = activation(forward_fn(x))
        if flip:
            maps = maps[:b] + maps[b:].flip(-1)
        maps = upsample_to(maps, out_size, stride)
        total = maps if total is None else total + maps
    return total
