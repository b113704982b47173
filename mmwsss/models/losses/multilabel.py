"""Multi-label soft-margin loss with label smoothing (the CAM loss)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmwsss.models.utils import label_smoothing
from mmwsss.registry import MODELS


@MODELS.register_module()
class MultiLabelSoftMarginLoss(nn.Module):
    """``torch.nn.MultiLabelSoftMarginLoss`` on soft targets.

    Equals the mean binary cross-entropy over batch and classes; targets are
    smoothed to ``(1-α)·y + α/2`` first (α = ``label_smoothing``).

    Args:
        label_smoothing: α; 0 disables smoothing.
        loss_weight: multiplier of the loss.
    """

    def __init__(self, label_smoothing: float = 0.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError('label_smoothing must lie in [0, 1), got '
                             f'{label_smoothing}')
        self.label_smoothing = label_smoothing
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        if logits.shape != labels.shape:
            raise ValueError(f'logits {tuple(logits.shape)} and labels '
                             f'{tuple(labels.shape)} differ in shape')
        target = labels.to(logits.dtype)
        if self.label_smoothing:
            target = label_smoothing(target, self.label_smoothing)
        loss = F.binary_cross_entropy_with_logits(logits, target)
        return self.loss_weight * loss
