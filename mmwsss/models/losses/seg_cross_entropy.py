"""Pixel-wise cross-entropy with label smoothing for stock MMSeg heads.

The P-NOC segmentation stage trains DeepLabV3+ with torch's
``nn.CrossEntropyLoss(ignore_index=255, label_smoothing=0.1)``
(README: segmentation);
mmseg 1.2.2's ``CrossEntropyLoss`` has no smoothing. This loss is a drop-in
``loss_decode`` for any MMSeg decode head::

    decode_head=dict(loss_decode=dict(
        _delete_=True, type='mmwsss.LabelSmoothCrossEntropyLoss',
        label_smoothing=0.1))

Smoothing is torch's: the target of a labelled pixel is
``(1 - α)·onehot + α / C``. The loss is the mean over the labelled pixels
(torch's ``ignore_index`` semantics, MMSeg's ``avg_non_ignore=True``); a
batch without any labelled pixel - possible with pseudo-masks, which leave
many pixels at 255 - gives 0 instead of torch's NaN.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmwsss.registry import MODELS


@MODELS.register_module()
class LabelSmoothCrossEntropyLoss(nn.Module):
    """Softmax cross-entropy over N×C×H×W logits and N×H×W labels.

    Args:
        label_smoothing: α in [0, 1); 0.1 as the reference.
        loss_weight: factor on the loss (MMSeg convention).
        loss_name: key of the loss in the log; MMSeg sums every loss whose
            name starts with ``loss_``.
    """

    def __init__(self, label_smoothing: float = 0.1, loss_weight: float = 1.0,
                 loss_name: str = 'loss_ce') -> None:
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(
                f'label_smoothing must lie in [0, 1), got {label_smoothing}')
        if not loss_name.startswith('loss_'):
            raise ValueError(f'loss_name must start with "loss_" (MMSeg only '
                             f'sums those), got {loss_name!r}')
        self.label_smoothing = label_smoothing
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                ignore_index: int = 255, **kwargs) -> torch.Tensor:
        """Mean loss over the labelled pixels; ``weight`` (N×H×W) scales
        each pixel's term."""
        per_pixel = F.cross_entropy(
            cls_score, label, reduction='none', ignore_index=ignore_index,
            label_smoothing=self.label_smoothing)
        if weight is not None:
            per_pixel = per_pixel * weight.float()
        labelled = (label != ignore_index).sum().clamp(min=1)
        return self.loss_weight * per_pixel.sum() / labelled

    @property
    def loss_name(self) -> str:
        return self._loss_name
