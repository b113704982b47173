"""Geometric transforms of the WSSS classification pipelines.

They follow the reference training recipe (README: recipes): a random resize of
the long side, a flip (mmcv's ``RandomFlip``), then a random crop that places
a smaller image at a random offset inside a mean-coloured canvas. Every
transform keeps ``gt_seg_map`` (and other ``seg_fields``) aligned with the
image; ignore padding is 255. Floating-point seg fields (dense score maps
such as the CAM hints of :class:`~mmwsss.datasets.transforms.LoadCAMs`) are
resized bilinearly and padded with 0 instead.
"""
import random
from typing import Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmwsss.registry import TRANSFORMS
from mmwsss.utils.reprs import format_repr

# ImageNet mean in BGR order (LoadImageFromFile gives BGR): padding with it is
# padding with 0 after the data preprocessor's normalisation, as the reference.
IMAGENET_MEAN_BGR = (103.53, 116.28, 123.675)


def is_score_map(array: np.ndarray) -> bool:
    """Float seg fields are score maps (bilinear, pad 0), the others label
    maps (nearest, pad ``seg_pad_val``)."""
    return np.issubdtype(array.dtype, np.floating)


def add_seg_field(results: dict, key: str, value: np.ndarray) -> dict:
    """Put a map loaded for the image under ``key`` and list it in
    ``seg_fields`` (once), so the geometric transforms move it with the
    image."""
    results[key] = value
    fields = list(results.get('seg_fields', []))
    if key not in fields:
        fields.append(key)
    results['seg_fields'] = fields
    return results


def _resize_results(results: dict, new_hw: Tuple[int, int],
                    interpolation: str) -> dict:
    """Resize ``img`` (``interpolation``) and every seg field (nearest for
    label maps, bilinear for float score maps)."""
    h, w = results['img'].shape[:2]
    new_h, new_w = new_hw
    results['img'] = mmcv.imresize(
        results['img'], (new_w, new_h), interpolation=interpolation)
    for key in results.get('seg_fields', []):
        seg = results[key]
        out = mmcv.imresize(
            seg, (new_w, new_h),
            interpolation='bilinear' if is_score_map(seg) else 'nearest')
        if out.ndim < seg.ndim:  # OpenCV drops a trailing channel of 1
            out = out[..., None]
        results[key] = out
    results['img_shape'] = (new_h, new_w)
    old = results.get('scale_factor', (1.0, 1.0))
    results['scale_factor'] = (old[0] * new_w / w, old[1] * new_h / h)
    return results


@TRANSFORMS.register_module()
class RandomResizeLongSide(BaseTransform):
    """Resize so the long side equals ``randint(min_size, max_size)``.

    The reference default for VOC (320–640, bicubic); aspect ratio is kept.

    Args:
        min_size: smallest long side (inclusive).
        max_size: largest long side (inclusive).
        interpolation: image interpolation (mmcv name).
    """

    def __init__(self,
                 min_size: int = 320,
                 max_size: int = 640,
                 interpolation: str = 'bicubic') -> None:
        if not 0 < min_size <= max_size:
            raise ValueError('RandomResizeLongSide needs 0 < min_size <= '
                             f'max_size, got {min_size}, {max_size}')
        self.min_size = min_size
        self.max_size = max_size
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        target = random.randint(self.min_size, self.max_size)
        scale = target / max(h, w)
        new_hw = (max(1, round(h * scale)), max(1, round(w * scale)))
        return _resize_results(results, new_hw, self.interpolation)

    def __repr__(self) -> str:
        return format_repr(self, 'min_size', 'max_size', 'interpolation')


@TRANSFORMS.register_module()
class FixedResize(BaseTransform):
    """Resize to a fixed (h, w), aspect ratio not kept.

    The C²AM-H reference resizes every training image (and its hint map,
    bilinearly) to a 515×515 square before the 448 crop.

    Args:
        size: (h, w) or a single int.
        interpolation: image interpolation (mmcv name).
    """

    def __init__(self, size, interpolation: str = 'bilinear') -> None:
        if isinstance(size, int):
            size = (size, size)
        if len(size) != 2 or min(size) <= 0:
            raise ValueError(f'FixedResize: bad size {size}')
        self.size = tuple(int(s) for s in size)
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        return _resize_results(results, self.size, self.interpolation)

    def __repr__(self) -> str:
        return format_repr(self, 'size', 'interpolation')


@TRANSFORMS.register_module()
class RandomRescale(BaseTransform):
    """Rescale by a factor drawn uniformly from ``ratio_range``, or chosen
    from ``ratios``.

    The P-NOC paper's wording of the resize (factor 0.5–2.0; its code uses
    :class:`RandomResizeLongSide` instead); ICD picks one of 0.5, 0.75, 1,
    1.25, 1.5 (``ratios``).

    Args:
        ratio_range: (low, high) of a uniform factor.
        interpolation: image interpolation (mmcv name).
        ratios: factors to choose from (uniformly); replaces
            ``ratio_range`` when given.
    """

    def __init__(self,
                 ratio_range: Sequence[float] = (0.5, 2.0),
                 interpolation: str = 'bicubic',
                 ratios: Optional[Sequence[float]] = None) -> None:
        lo, hi = ratio_range
        if not 0 < lo <= hi:
            raise ValueError(f'RandomRescale: bad ratio_range {ratio_range}')
        if ratios is not None and (not len(ratios)
                                   or min(float(r) for r in ratios) <= 0):
            raise ValueError(f'RandomRescale: bad ratios {ratios}')
        self.ratio_range = (float(lo), float(hi))
        self.ratios = None if ratios is None else tuple(
            float(r) for r in ratios)
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        if self.ratios is None:
            ratio = random.uniform(*self.ratio_range)
        else:
            ratio = random.choice(self.ratios)
        new_hw = (max(1, round(h * ratio)), max(1, round(w * ratio)))
        return _resize_results(results, new_hw, self.interpolation)

    def __repr__(self) -> str:
        chosen = 'ratio_range' if self.ratios is None else 'ratios'
        return format_repr(self, chosen, 'interpolation')


@TRANSFORMS.register_module()
class RandomCropPad(BaseTransform):
    """Random crop to ``crop_size``; a smaller side is padded instead, with
    the image placed at a random offset (the reference's ``RandomCrop``).

    The image becomes float32 when padding is needed, so the canvas holds
    the exact mean colour (0 after normalisation). Label seg fields pad
    with ``seg_pad_val``, float score maps with ``score_pad_val``.

    Args:
        crop_size: (h, w) or a single int.
        img_pad_val: canvas colour in the image's channel order.
        seg_pad_val: ignore value for label seg fields.
        score_pad_val: value for float score maps (the C²AM-H reference
            pads its hints with 0: no hint).
    """

    def __init__(self,
                 crop_size,
                 img_pad_val: Sequence[float] = IMAGENET_MEAN_BGR,
                 seg_pad_val: int = 255,
                 score_pad_val: float = 0.0) -> None:
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'RandomCropPad: bad crop_size {crop_size}')
        self.crop_size = tuple(int(s) for s in crop_size)
        self.img_pad_val = tuple(float(v) for v in img_pad_val)
        self.seg_pad_val = seg_pad_val
        self.score_pad_val = score_pad_val

    @staticmethod
    def _offsets(size: int, crop: int) -> Tuple[int, int]:
        """(source offset, destination offset) along one axis."""
        if size >= crop:
            return random.randint(0, size - crop), 0
        return 0, random.randint(0, crop - size)

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        ch, cw = self.crop_size
        sy, dy = self._offsets(h, ch)
        sx, dx = self._offsets(w, cw)
        vh, vw = min(h, ch), min(w, cw)

        if h >= ch and w >= cw:
            results['img'] = img[sy:sy + ch, sx:sx + cw]
            for key in results.get('seg_fields', []):
                results[key] = results[key][sy:sy + ch, sx:sx + cw]
        else:
            canvas = np.empty((ch, cw) + img.shape[2:], np.float32)
            canvas[...] = np.asarray(self.img_pad_val, np.float32)
            canvas[dy:dy + vh, dx:dx + vw] = img[sy:sy + vh, sx:sx + vw]
            results['img'] = canvas
            for key in results.get('seg_fields', []):
                seg = results[key]
                pad = (self.score_pad_val
                       if is_score_map(seg) else self.seg_pad_val)
                out = np.full((ch, cw) + seg.shape[2:], pad, seg.dtype)
                out[dy:dy + vh, dx:dx + vw] = seg[sy:sy + vh, sx:sx + vw]
                results[key] = out
        results['img_shape'] = (ch, cw)
        results['crop_bbox'] = (sy, sy + vh, sx, sx + vw)
        return results

    def __repr__(self) -> str:
        return format_repr(self, 'crop_size', 'seg_pad_val')
