"""Batch contrastive losses of C²AM (README: C²AM).

C²AM pools every image into a foreground and a background embedding
(N×C each). The positive terms pull the embeddings of the same kind
together across the batch, weighted by rank; the negative term pushes each
background away from every foreground::

    S(a, b)     = clamp(cos(a_i, b_j), 5e-4, 0.9995)        (N×N)
    SimMax(E)   = Σ_ij w_ij · −log S(E, E)_ij / Z,   w_ij = exp(−α·r_ij)
    SimMin(B,F) = mean_ij −log(1 − S(B, F)_ij)

``r_ij`` is the rank of ``S_ij`` in row ``i`` sorted in decreasing order.
The official code and the paper average the positive term differently
(``average``):

- ``'code'`` (default): the mean over all N² pairs, the diagonal included;
  ranks count from −1 (the diagonal, normally the row maximum, gets weight
  e^α, the most similar other sample weight 1);
- ``'paper'``: the sum over the N(N−1) pairs ``i ≠ j`` divided by N(N−1);
  the diagonal is left out and ranks count from 0 among the other samples.

Both give every off-diagonal pair the same weight when the diagonal is its
row's maximum. Ranks are computed on detached similarities with a stable
sort, so ties (clamped similarities) are broken by sample index — the
reference's unstable sort makes them order dependent. Since S ≤ 0.9995 the
reference's ``L[L < 0] = 0`` never triggers and is not needed.
"""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmwsss.registry import MODELS

SIM_RANGE = (5e-4, 0.9995)
AVERAGES = ('code', 'paper')


def cosine_similarity_matrix(a: torch.Tensor,
                             b: torch.Tensor,
                             clamp: Tuple[float, float] = SIM_RANGE
                             ) -> torch.Tensor:
    """N×M clamped cosine similarities of the rows of ``a`` (N×C) and
    ``b`` (M×C)."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f'embeddings must be N×C and M×C, got '
                         f'{tuple(a.shape)} and {tuple(b.shape)}')
    sim = F.normalize(a, dim=1) @ F.normalize(b, dim=1).t()
    return sim.clamp(min=clamp[0], max=clamp[1])


def row_ranks(sim: torch.Tensor) -> torch.Tensor:
    """0-based rank of every entry in its row sorted in decreasing order
    (stable: ties keep index order). Not differentiable (long tensor)."""
    order = torch.sort(sim.detach(), dim=1, descending=True, stable=True)[1]
    return torch.argsort(order, dim=1)


def rank_weights(sim: torch.Tensor, alpha: float,
                 average: str = 'code') -> torch.Tensor:
    """The positive-pair weights ``exp(−α·r)`` of an N×N similarity matrix.

    ``'code'``: ranks over the whole row, minus one (the diagonal gets
    e^α). ``'paper'``: ranks among the off-diagonal entries (the diagonal is
    moved to the top before ranking, then excluded by the caller).
    """
    if average not in AVERAGES:
        raise ValueError(f'average must be one of {AVERAGES}, got '
                         f'{average!r}')
    if average == 'code':
        ranks = row_ranks(sim) - 1
    else:
        eye = torch.eye(len(sim), dtype=torch.bool, device=sim.device)
        ranks = row_ranks(sim.detach().masked_fill(eye, float('inf'))) - 1
    return torch.exp(-alpha * ranks.to(sim.dtype))


@MODELS.register_module()
class SimMaxLoss(nn.Module):
    """Rank-weighted similarity maximisation within one set of embeddings
    (C²AM's positive terms, for foregrounds and for backgrounds).

    Args:
        alpha: rank decay α of the weights (reference 0.25).
        average: ``'code'`` (mean over N², diagonal included) or
            ``'paper'`` (mean over the N(N−1) pairs i ≠ j); see the module
            docstring.
        loss_weight: multiplier of the loss.
    """

    def __init__(self,
                 alpha: float = 0.25,
                 average: str = 'code',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if average not in AVERAGES:
            raise ValueError(f'SimMaxLoss average must be one of {AVERAGES},'
                             f' got {average!r}')
        self.alpha = float(alpha)
        self.average = average
        self.loss_weight = float(loss_weight)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Loss of N×C embeddings (a scalar)."""
        sim = cosine_similarity_matrix(embeddings, embeddings)
        loss = -torch.log(sim) * rank_weights(sim, self.alpha, self.average)
        if self.average == 'code':
            return self.loss_weight * loss.mean()
        n = len(sim)
        if n < 2:  # no pair i != j: zero, still attached to the graph
            return loss.sum() * 0.0
        off = ~torch.eye(n, dtype=torch.bool, device=sim.device)
        return self.loss_weight * loss[off].sum() / (n * (n - 1))

    def extra_repr(self) -> str:
        return (f'alpha={self.alpha}, average={self.average!r}, '
                f'loss_weight={self.loss_weight}')


@MODELS.register_module()
class SimMinLoss(nn.Module):
    """Similarity minimisation between backgrounds and foregrounds (C²AM's
    negative term): ``mean_ij −log(1 − S(bg_i, fg_j))`` over all N² pairs.

    Args:
        loss_weight: multiplier of the loss.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)

    def forward(self, background: torch.Tensor,
                foreground: torch.Tensor) -> torch.Tensor:
        """Loss of N×C background and M×C foreground embeddings."""
        sim = cosine_similarity_matrix(background, foreground)
        return self.loss_weight * -torch.log(1.0 - sim).mean()

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'
