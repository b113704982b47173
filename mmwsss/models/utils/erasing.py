"""Class-specific erasing of images by CAMs (OC-CSE / P-NOC, README: P-NOC).

One image per sample is erased by the CAM of one chosen class ``r``:
- soft: ``x · (1 − M)`` — differentiable, gradients reach the CAMs (and,
  through the max normalisation, every pixel of the map);
- hard: ``x · keep(M)`` — a binary mask, never differentiable.
``M`` is the ReLU'd CAM of class ``r``, bilinearly upsampled to the image
(a plain resize in the reference, ``align='resize'`` of
:data:`~mmwsss.models.utils.tta.ALIGNMENTS`) and normalised by its
maximum: one max over the whole batch (``global_norm=True``, OC-CSE's
default) or per sample. Erasing happens on
normalised images, so erased pixels become 0 = the mean colour.
"""
from typing import Optional

import torch
import torch.nn.functional as F

from mmwsss.utils.cam_utils import normalize_cam
from .tta import upsample_to


def sample_one_positive(labels: torch.Tensor,
                        generator: Optional[torch.Generator] = None
                        ) -> torch.Tensor:
    """One-hot (B, C) of one positive class per sample, drawn uniformly.

    Samples without any positive class get an all-zero row (nothing is
    erased for them).
    """
    positive = labels > 0.5
    scores = torch.rand(labels.shape, generator=generator,
                        device='cpu').to(labels.device)
    scores = torch.where(positive, scores, torch.full_like(scores, -1.0))
    choice = F.one_hot(scores.argmax(dim=1), labels.shape[1]).to(labels)
    return choice * positive.any(dim=1, keepdim=True).to(labels)


def class_specific_mask(cams: torch.Tensor,
                        one_hot: torch.Tensor,
                        size,
                        global_norm: bool,
                        eps: float = 1e-5,
                        align: str = 'resize') -> torch.Tensor:
    """(B, 1, H, W) normalised mask of each sample's selected class.

    Args:
        cams: (B, C, h, w) raw CAM logits.
        one_hot: (B, C) selection (at most one class per sample).
        size: (H, W) image size.
        global_norm: one maximum over the batch instead of one per sample.
        align: where CAM cells land on the pixels, one of
            :data:`~mmwsss.models.utils.tta.ALIGNMENTS`; the reference
            resizes (``'resize'``). The stride is the image width over the
            CAM width.
    """
    mask = (cams * one_hot[:, :, None, None]).sum(dim=1, keepdim=True)
    stride = size[-1] / cams.shape[-1]
    mask = upsample_to(F.relu(mask), tuple(size), stride, align)
    # ReLU'd before the upsampling: no second one
    return normalize_cam(mask, eps, 'all' if global_norm else 'map',
                         relu=False)


def soft_erase(images: torch.Tensor, cams: torch.Tensor,
               one_hot: torch.Tensor, global_norm: bool = True,
               align: str = 'resize') -> torch.Tensor:
    """``images · (1 − M)``; differentiable w.r.t. ``cams``."""
    mask = class_specific_mask(cams, one_hot, images.shape[-2:], global_norm,
                               align=align)
    return images * (1.0 - mask)


ERASE_RULES = ('code', 'paper')


def hard_erase(images: torch.Tensor,
               cams: torch.Tensor,
               one_hot: torch.Tensor,
               threshold: float = 0.2,
               global_norm: bool = False,
               rule: str = 'code',
               align: str = 'resize') -> torch.Tensor:
    """Keep the pixels the selected class's CAM does not cover.

    ``rule='code'`` (official implementation, default): keep ``M ≤ δ``, i.e.
    erase everything above δ. ``rule='paper'`` (the paper's formula
    ``x ∘ (1 − M > δ)``): keep ``M < 1 − δ``. No gradient flows.
    """
    if rule not in ERASE_RULES:
        raise ValueError(f'unknown erase rule "{rule}"; use {ERASE_RULES}')
    with torch.no_grad():
        mask = class_specific_mask(cams.detach(), one_hot, images.shape[-2:],
                                   global_norm, align=align)
        keep = mask <= threshold if rule == 'code' else \
            (1.0 - mask) > threshold
    return (images * keep.to(images.dtype)).detach()
