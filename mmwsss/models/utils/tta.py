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


ALIGN_MODES = ('center', 'corner')


def upsample_to(maps: torch.Tensor,
                size: Tuple[int, int],
                stride: float,
                align: str = 'center',
                scale: float = 1.0) -> torch.Tensor:
    """Bilinearly upsample stride-``stride`` maps to an image of ``size``.

    ``align`` says where feature cell ``i`` sits in the image:

    - ``'center'`` (the reference): at the centre of its ``stride`` block —
      resize to the stride-aligned size ``ceil(H/stride)·stride``
      (``align_corners=False``) and crop to ``size``;
    - ``'corner'``: at pixel ``stride·i``, which is what zero-padded strided
      convolutions compute. The two differ by half a cell (≈ stride/2
      pixels, down-right), negligible on 500-px photos but large on small
      images (32-96 px) where it costs several mIoU points.

    Args:
        maps: (B, C, h, w) maps of an image resized by ``scale``.
        size: (H, W) of the original image.
        stride: output stride of the maps w.r.t. their (scaled) input.
        scale: factor the image was resized by before the forward pass
            (only ``'corner'`` needs it; ``'center'`` stretches uniformly).
    """
    if align not in ALIGN_MODES:
        raise ValueError(f'unknown align "{align}"; use {ALIGN_MODES}')
    h, w = size
    if align == 'center':
        up = (int(math.ceil(h / stride) * stride),
              int(math.ceil(w / stride) * stride))
        maps = F.interpolate(
            maps, size=up, mode='bilinear', align_corners=False)
        return maps[..., :h, :w]
    fh, fw = maps.shape[-2:]

    def axis(n: int, cells: int) -> torch.Tensor:
        pos = torch.arange(n, device=maps.device, dtype=maps.dtype)
        pos = pos * (scale / stride)  # feature coordinate of each pixel
        return pos * 2 / max(cells - 1, 1) - 1

    gy, gx = torch.meshgrid(axis(h, fh), axis(w, fw), indexing='ij')
    grid = torch.stack([gx, gy], dim=-1).expand(maps.shape[0], h, w, 2)
    return F.grid_sample(
        maps, grid, mode='bilinear', padding_mode='border',
        align_corners=True)


def multi_scale_flip_forward(forward_fn: DenseForward,
                             inputs: torch.Tensor,
                             scales: Sequence[float] = (1.0, 0.5, 1.5, 2.0),
                             flip: bool = True,
                             stride: int = 16,
                             out_size: Tuple[int, int] = None,
                             activation: Callable = F.relu,
                             align: str = 'center') -> torch.Tensor:
    """Sum of ``activation(forward_fn(x))`` over scales (and flips).

    Args:
        forward_fn: normalised images (N, 3, h, w) → maps (N, C, h', w').
        inputs: (B, 3, H, W) normalised images (one size per batch).
        scales: image scale factors.
        flip: also run the horizontally flipped image (in the same batch).
        stride: output stride of ``forward_fn`` (for alignment).
        out_size: size of the returned maps; defaults to (H, W).
        activation: applied to every pass before summing (ReLU for CAMs).
        align: feature-to-pixel alignment, see :func:`upsample_to`.

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
        maps = upsample_to(maps, out_size, stride, align, scale)
        total = maps if total is None else total + maps
    return total
