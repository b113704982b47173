"""Multi-scale + flip test-time augmentation for dense maps (CAMs, saliency).

One implementation shared by every method: a ``forward_fn`` maps a batch of
normalised images to dense maps; each scale runs one forward pass with the
image and its horizontal flip batched together. Besides the full-resolution
maps it can return the maps on a coarser grid (the stride-4 CAMs the random
walk starts from, README: CAM files), resampled from each scale's output
directly, as the reference does.
"""
import math
from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

DenseForward = Callable[[torch.Tensor], torch.Tensor]
Resize = Callable[[torch.Tensor, float], torch.Tensor]
RESIZE_MODES = ('tensor', 'pil')


def scaled_size(size: Tuple[int, int], scale: float) -> Tuple[int, int]:
    """``(round(H·s), round(W·s))`` (Python rounding, as the reference),
    at least 1."""
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


def resize_image(inputs: torch.Tensor, scale: float) -> torch.Tensor:
    """Resize a normalised NCHW batch by ``scale`` (bicubic; antialiased when
    shrinking, close to PIL's resize used by the reference)."""
    if scale == 1.0:
        return inputs
    return F.interpolate(
        inputs, size=scaled_size(inputs.shape[-2:], scale), mode='bicubic',
        align_corners=False, antialias=scale < 1.0)


class PILResize:
    """The reference's TTA resize: PIL bicubic on the 8-bit image.

    The normalised inputs are mapped back to 8-bit pixels (exact for images
    loaded from 8-bit files: ``round(x·std + mean)``), each image is resized
    with ``PIL.Image.resize(..., BICUBIC)`` and normalised again, so the
    network sees the bytes the reference's ``scripts/cam/inference.py``
    feeds it (PIL rounds and clips the bicubic result to 0..255, which the
    float resize of :func:`resize_image` does not).

    Args:
        mean: per-channel mean of the normalisation (channel order of the
            inputs).
        std: per-channel standard deviation.
    """

    def __init__(self, mean: Union[Sequence[float], torch.Tensor],
                 std: Union[Sequence[float], torch.Tensor]) -> None:
        self.mean = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)

    def __call__(self, inputs: torch.Tensor, scale: float) -> torch.Tensor:
        if scale == 1.0:
            return inputs
        mean = self.mean.to(inputs.device)
        std = self.std.to(inputs.device)
        pixels = (inputs.float() * std + mean).round().clamp(0, 255)
        height, width = scaled_size(inputs.shape[-2:], scale)
        out = []
        for image in pixels.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy():
            pil = Image.fromarray(image if image.shape[-1] != 1 else image[
                ..., 0])
            resized = np.asarray(pil.resize((width, height), Image.BICUBIC))
            if resized.ndim == 2:
                resized = resized[..., None]
            out.append(torch.from_numpy(resized.copy()).permute(2, 0, 1))
        batch = torch.stack(out).to(inputs.device, torch.float32)
        return ((batch - mean) / std).to(inputs.dtype)


def build_resize(mode: str,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None) -> Resize:
    """The TTA resize of ``mode``: ``'tensor'`` (:func:`resize_image`) or
    ``'pil'`` (:class:`PILResize`, needs the normalisation)."""
    if mode == 'tensor':
        return resize_image
    if mode == 'pil':
        if mean is None or std is None:
            raise ValueError("resize='pil' needs the mean and std of the "
                             'normalisation (a data_preprocessor with '
                             'mean/std)')
        return PILResize(mean, std)
    raise ValueError(f'unknown TTA resize "{mode}"; use {RESIZE_MODES}')


def _place_center(maps: torch.Tensor, size: Tuple[int, int], pitch: int,
                  stride: float, scale: float) -> torch.Tensor:
    """Cell ``i`` at the centre of its ``stride`` block: resize onto the
    grid of the stride-aligned image (``ceil(H/stride)·stride`` pixels,
    ``align_corners=False``) and crop to the grid of the image."""
    cells = []
    for n in size:
        aligned = math.ceil(n / stride) * stride / pitch
        if abs(aligned - round(aligned)) > 1e-6:
            raise ValueError(
                f"align='center' needs a grid pitch ({pitch}) that divides "
                f'the stride ({stride}); use \'resize\' or \'corner\'')
        cells.append(int(round(aligned)))
    maps = F.interpolate(
        maps, size=tuple(cells), mode='bilinear', align_corners=False)
    out = strided_size(size, pitch)
    return maps[..., :out[0], :out[1]]


def _place_corner(maps: torch.Tensor, size: Tuple[int, int], pitch: int,
                  stride: float, scale: float) -> torch.Tensor:
    """Cell ``i`` at pixel ``stride·i`` (of the image resized by
    ``scale``): output cell ``j`` reads feature coordinate
    ``pitch·j·scale/stride``."""
    return _corner_sample(maps, strided_size(size, pitch),
                          pitch * scale / stride)


def _place_resize(maps: torch.Tensor, size: Tuple[int, int], pitch: int,
                  stride: float, scale: float) -> torch.Tensor:
    """The maps resized straight onto the grid (bilinear,
    ``align_corners=False``): their outer edges on the grid's edges."""
    return F.interpolate(maps, size=strided_size(size, pitch),
                         mode='bilinear', align_corners=False)


#: Where cell ``i`` of a stride-``s`` map lands on the grid it is resampled
#: to; one meaning for every ``align`` option (``test_cfg.align`` and
#: ``coarse_align``, the P-NOC family's ``mask_align``):
#:
#: - ``'center'``: at the centre of its ``s`` block (resize to the
#:   stride-aligned size and crop; the reference's full-resolution CAMs,
#:   IRN's ``strided_up_size``);
#: - ``'corner'``: at pixel ``s·i``, what zero-padded strided convolutions
#:   compute. It differs from ``'center'`` by half a cell (≈ s/2 pixels,
#:   down-right): negligible on 500-px photos, several mIoU points on
#:   32–96 px images (README, the demo's notes);
#: - ``'resize'``: a plain bilinear resize of the map onto the grid, its
#:   edges on the grid's edges (the reference's erasing masks and stride-4
#:   CAMs). It equals ``'center'`` when the image side is a multiple of
#:   the stride and is stretched by ``H / (ceil(H/s)·s)`` otherwise.
ALIGNMENTS = dict(center=_place_center, corner=_place_corner,
                  resize=_place_resize)


def check_align(value: str, key: str = 'align') -> str:
    """``value`` if it names one of :data:`ALIGNMENTS`, else a ValueError
    naming the config ``key``."""
    if value not in ALIGNMENTS:
        raise ValueError(f'unknown {key} {value!r}; use one of '
                         f'{tuple(ALIGNMENTS)}')
    return value


def place_maps(maps: torch.Tensor, size: Tuple[int, int], pitch: int,
               stride: float, align: str, scale: float = 1.0
               ) -> torch.Tensor:
    """Resample stride-``stride`` maps onto the pitch-``pitch`` grid of an
    image of ``size`` (``strided_size(size, pitch)`` cells) with the
    geometry ``align`` of :data:`ALIGNMENTS`."""
    place = ALIGNMENTS[check_align(align)]
    return place(maps, tuple(size), pitch, stride, scale)


def upsample_to(maps: torch.Tensor,
                size: Tuple[int, int],
                stride: float,
                align: str = 'center',
                scale: float = 1.0) -> torch.Tensor:
    """Bilinearly upsample stride-``stride`` maps to an image of ``size``;
    ``align`` is one of :data:`ALIGNMENTS` (default: the reference's
    full-resolution CAMs).

    Args:
        maps: (B, C, h, w) maps of an image resized by ``scale``.
        size: (H, W) of the original image.
        stride: output stride of the maps w.r.t. their (scaled) input.
        scale: factor the image was resized by before the forward pass
            (only ``'corner'`` needs it; the others stretch uniformly).
    """
    return place_maps(maps, size, 1, stride, align, scale)


def strided_size(size: Tuple[int, int], stride: int) -> Tuple[int, int]:
    """``(ceil(H/stride), ceil(W/stride))``: the grid of stride-``stride``
    maps of an ``H×W`` image (the reference's ``(H−1)//4+1`` for 4)."""
    return (-(-int(size[0]) // stride), -(-int(size[1]) // stride))


def resample_to_stride(maps: torch.Tensor,
                       size: Tuple[int, int],
                       out_stride: int,
                       stride: float,
                       align: str = 'resize',
                       scale: float = 1.0) -> torch.Tensor:
    """Resample stride-``stride`` maps to the stride-``out_stride`` grid of
    an image of ``size`` (``strided_size(size, out_stride)`` cells);
    ``align`` is one of :data:`ALIGNMENTS` (default ``'resize'``: the
    reference's stride-4 ``cam``, resized straight to the strided size).

    Args:
        maps: (B, C, h, w) maps of an image resized by ``scale``.
        size: (H, W) of the original image.
        out_stride: stride of the returned grid (4 for the random walk).
        stride: output stride of ``maps`` w.r.t. their (scaled) input.
        scale: factor the image was resized by (``'corner'`` only).
    """
    return place_maps(maps, size, out_stride, stride, align, scale)


def _corner_sample(maps: torch.Tensor, out: Tuple[int, int],
                   step: float) -> torch.Tensor:
    """Sample ``maps`` (B, C, h, w) bilinearly at feature coordinates
    ``step·i`` (rows) and ``step·j`` (columns), border-clamped."""
    fh, fw = maps.shape[-2:]

    def axis(n: int, cells: int) -> torch.Tensor:
        pos = torch.arange(n, device=maps.device, dtype=maps.dtype) * step
        return pos * 2 / max(cells - 1, 1) - 1

    gy, gx = torch.meshgrid(axis(out[0], fh), axis(out[1], fw), indexing='ij')
    grid = torch.stack([gx, gy], dim=-1).expand(maps.shape[0], *out, 2)
    return F.grid_sample(
        maps, grid, mode='bilinear', padding_mode='border',
        align_corners=True)


class ScaleSum:
    """Running sum of per-scale dense maps, at full resolution and (with
    ``out_stride``) on the stride-``out_stride`` grid, each scale resampled
    from its own maps (the reference's ``high_res`` and ``cam``).

    Shared by :func:`multi_scale_flip_forward` and the CAM modes that make
    each scale's maps another way (AdvCAM).

    Args:
        out_size: (H, W) of the original image.
        stride: output stride of the added maps w.r.t. their scaled input.
        align: where feature cells land on the pixels, one of
            :data:`ALIGNMENTS` (the reference: ``'center'``).
        out_stride: also keep the sum on this stride's grid; None: skip.
        coarse_align: the same for the strided grid (the reference:
            ``'resize'``).
    """

    def __init__(self, out_size: Tuple[int, int], stride: int,
                 align: str = 'center',
                 out_stride: Optional[int] = None,
                 coarse_align: str = 'resize') -> None:
        self.out_size = tuple(out_size)
        self.stride, self.align, self.out_stride = stride, align, out_stride
        self.coarse_align = coarse_align
        self.total: Optional[torch.Tensor] = None
        self.strided: Optional[torch.Tensor] = None

    def add(self, maps: torch.Tensor, scale: float) -> None:
        """Add (B, C, h, w) maps of the image resized by ``scale``."""
        if self.out_stride is not None:
            coarse = resample_to_stride(maps, self.out_size, self.out_stride,
                                        self.stride, self.coarse_align,
                                        scale)
            self.strided = coarse if self.strided is None \
                else self.strided + coarse
        maps = upsample_to(maps, self.out_size, self.stride, self.align,
                           scale)
        self.total = maps if self.total is None else self.total + maps

    def result(self) -> Union[torch.Tensor, Tuple[torch.Tensor,
                                                  torch.Tensor]]:
        """The full-resolution sum; with ``out_stride`` a tuple of it and
        the strided sum."""
        if self.total is None:
            raise ValueError('ScaleSum.result() before any add()')
        if self.out_stride is None:
            return self.total
        return self.total, self.strided


def multi_scale_flip_forward(
        forward_fn: DenseForward,
        inputs: torch.Tensor,
        scales: Sequence[float] = (1.0, 0.5, 1.5, 2.0),
        flip: bool = True,
        stride: int = 16,
        out_size: Tuple[int, int] = None,
        activation: Callable = F.relu,
        align: str = 'center',
        resize: Resize = resize_image,
        out_stride: Optional[int] = None,
        coarse_align: str = 'resize'
) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
    """Sum of ``activation(forward_fn(x))`` over scales (and flips).

    Args:
        forward_fn: normalised images (N, 3, h, w) → maps (N, C, h', w').
        inputs: (B, 3, H, W) normalised images (one size per batch).
        scales: image scale factors.
        flip: also run the horizontally flipped image (in the same batch).
        stride: output stride of ``forward_fn`` (for alignment).
        out_size: size of the returned maps; defaults to (H, W).
        activation: applied to every pass before summing (ReLU for CAMs).
        align: where feature cells land on the pixels, one of
            :data:`ALIGNMENTS` (the reference: ``'center'``).
        resize: how each scale's input is made (:func:`build_resize`).
        out_stride: also return the sum on the stride-``out_stride`` grid of
            ``out_size`` (:func:`resample_to_stride`), each scale resampled
            from its own maps as the reference's stride-4 ``cam``.
        coarse_align: the same for the strided grid (the reference:
            ``'resize'``).

    Returns:
        (B, C, *out_size) summed maps; with ``out_stride`` a tuple of them
        and the (B, C, ⌈H/s⌉, ⌈W/s⌉) strided sum.
    """
    if not scales:
        raise ValueError('multi_scale_flip_forward needs at least one scale')
    b = inputs.shape[0]
    acc = ScaleSum(out_size or inputs.shape[-2:], stride, align, out_stride,
                   coarse_align)
    for scale in scales:
        x = resize(inputs, scale)
        if flip:
            x = torch.cat([x, x.flip(-1)], dim=0)
        maps = activation(forward_fn(x))
        if flip:
            maps = maps[:b] + maps[b:].flip(-1)
        acc.add(maps, scale)
    return acc.result()
