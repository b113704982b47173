"""AffinityNet's loss on inter-pixel affinities (README: random walk, the IRN
affinity loss)."""
from typing import Dict, Tuple

import torch
import torch.nn as nn

from mmwsss.registry import MODELS


def affinity_targets(src_labels: torch.Tensor,
                     dst_labels: torch.Tensor,
                     ignore_index: int = 255
                     ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Boolean ``(bg_pos, fg_pos, neg)`` masks of pixel pairs.

    A pair is valid when neither pixel is ``ignore_index``; it is positive
    when both share a label (background pairs and foreground pairs are kept
    apart), negative otherwise.

    Args:
        src_labels: ``(B, 1, n_src)`` labels of the source pixels.
        dst_labels: ``(B, n_dirs, n_src)`` labels of the destinations.

    Returns:
        three ``(B, n_dirs, n_src)`` bool tensors.
    """
    valid = (src_labels != ignore_index) & (dst_labels != ignore_index)
    same = (src_labels == dst_labels) & valid
    bg_pos = same & (src_labels == 0)
    fg_pos = same & (src_labels != 0)
    neg = valid & ~same
    return bg_pos, fg_pos, neg


@MODELS.register_module()
class AffinityLoss(nn.Module):
    """Balanced cross-entropy on affinities (``aff`` = 1 − max boundary).

    ``pos = −log(aff + ε)``, ``neg = −log(1 + ε − aff)``; each term is a mean
    over its pairs of the whole batch (``Σ mask·loss / (Σ mask + ε)``, so an
    empty term is 0), combined as ``((L_bg/2 + L_fg/2) + L_neg)/2``.

    Args:
        ignore_index: label of pixels without a label.
        eps: the reference's 1e-5 (log and denominators).
        loss_weight: multiplier of the total.
    """

    def __init__(self, ignore_index: int = 255, eps: float = 1e-5,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.eps = eps
        self.loss_weight = loss_weight

    def _mean(self, mask: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:
        mask = mask.to(loss.dtype)
        return (mask * loss).sum() / (mask.sum() + self.eps)

    def forward(self, affinities: torch.Tensor, src_labels: torch.Tensor,
                dst_labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``loss_aff`` (the total, what is optimised) and the unweighted
        terms ``aff_bg``, ``aff_fg``, ``aff_neg`` (detached, for logs).

        Args:
            affinities: ``(B, n_dirs, n_src)`` in [0, 1].
            src_labels, dst_labels: as :func:`affinity_targets`.
        """
        if affinities.shape != dst_labels.shape:
            raise ValueError(f'affinities {tuple(affinities.shape)} and '
                             f'destination labels {tuple(dst_labels.shape)} '
                             'differ in shape')
        bg_pos, fg_pos, neg = affinity_targets(src_labels, dst_labels,
                                               self.ignore_index)
        pos_loss = -torch.log(affinities + self.eps)
        neg_loss = -torch.log(1.0 + self.eps - affinities)
        bg = self._mean(bg_pos, pos_loss)
        fg = self._mean(fg_pos, pos_loss)
        ng = self._mean(neg, neg_loss)
        total = ((bg / 2 + fg / 2) + ng) / 2
        return dict(
            loss_aff=self.loss_weight * total,
            aff_bg=bg.detach(),
            aff_fg=fg.detach(),
            aff_neg=ng.detach())
