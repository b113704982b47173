"""W-OoD losses (README: W-OoD): the metric loss between image features
and the fixed class / OoD centres, and the classification loss of OoD
images against the all-zero label.

The full W-OoD objective is ``BCE(z, y) + λ·L_M + β·L_ood`` with λ = 0.007
and β = 0.25; those are the ``loss_weight`` defaults here, so a model sums
the three losses as built.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmwsss.registry import MODELS
from mmwsss.utils.errors import ConfigError


def _distances(features: torch.Tensor,
               centres: torch.Tensor) -> torch.Tensor:
    """B x K Euclidean distances (exact; zero distances get a zero
    gradient)."""
    return torch.cdist(features, centres.to(features),
                       compute_mode='donot_use_mm_for_euclid_dist')


def push_threshold(dist: torch.Tensor, push_fraction: float) -> torch.Tensor:
    """τ: the smallest of the largest ``1 − push_fraction`` share of the
    nonzero entries of ``dist`` (detached), i.e. about their
    ``push_fraction`` quantile, so ``dist < τ`` marks the nearest
    ~``push_fraction`` of them. Zero when no entry is nonzero."""
    values = dist.detach().flatten()
    values = values[values > 0]
    if values.numel() == 0:
        return dist.new_zeros(())
    keep = int(values.numel() * (1.0 - push_fraction) + 1e-9)
    keep = min(max(keep, 1), values.numel())
    return torch.topk(values, keep).values[-1]


@MODELS.register_module()
class WOoDMetricLoss(nn.Module):
    """Pull features to their classes' centres, push them from the nearest
    OoD clusters::

        d_bc = ||f_b − μ_c||,   e_bk = ||f_b − ν_k||
        L_M  = s · mean_{b,c}(y_bc · d_bc) − mean_{b,k}(e_bk · [e_bk < τ])

    ``τ`` is :func:`push_threshold` of ``e`` (the ~20th percentile of its
    nonzero entries, recomputed per batch, no gradient). As in the
    reference, both means run over *all* B·C and B·K entries, zeros
    included: the pull is diluted by the absent classes and the push by the
    far clusters, so the scale depends on C and K (λ = 0.007 was tuned for
    VOC's C = 20, K = 50). The reference's pull scale is ``20 / K``, i.e.
    ``C / K``.

    The centres are inputs, not state: they are computed once before
    training (``tools/woods_centres.py``) and the model keeps them (e.g. as
    buffers, so they are saved in its checkpoints).

    Args:
        push_fraction: share of the nonzero OoD distances below τ (0.2).
        pull_scale: s; None uses ``C / K`` as the reference.
        loss_weight: λ (reference 0.007).
    """

    def __init__(self,
                 push_fraction: float = 0.2,
                 pull_scale: Optional[float] = None,
                 loss_weight: float = 0.007) -> None:
        super().__init__()
        if not 0.0 <= push_fraction < 1.0:
            raise ConfigError(f'WOoDMetricLoss: push_fraction must lie in '
                              f'[0, 1), got {push_fraction}')
        self.push_fraction = float(push_fraction)
        self.pull_scale = pull_scale
        self.loss_weight = loss_weight

    def forward(self, features: torch.Tensor, labels: torch.Tensor,
                class_centres: torch.Tensor,
                ood_centres: torch.Tensor) -> torch.Tensor:
        """Args: ``features`` B x D (GAP features of the in-distribution
        batch, :func:`mmwsss.models.utils.gap_features`), ``labels`` B x C
        multi-hot, ``class_centres`` C x D, ``ood_centres`` K x D."""
        if (features.ndim != 2 or class_centres.ndim != 2
                or ood_centres.ndim != 2
                or class_centres.shape[1] != features.shape[1]
                or ood_centres.shape[1] != features.shape[1]):
            raise ValueError(
                f'WOoDMetricLoss: features {tuple(features.shape)}, class '
                f'centres {tuple(class_centres.shape)} and OoD centres '
                f'{tuple(ood_centres.shape)} must be B x D, C x D and K x D')
        if labels.shape != (len(features), len(class_centres)):
            raise ValueError(
                f'WOoDMetricLoss: labels {tuple(labels.shape)} must be B x C '
                f'= {(len(features), len(class_centres))}')
        num_classes, num_clusters = len(class_centres), len(ood_centres)
        scale = (num_classes / num_clusters
                 if self.pull_scale is None else self.pull_scale)
        pull = (labels.to(features) *
                _distances(features, class_centres)).mean()
        dist_ood = _distances(features, ood_centres)
        tau = push_threshold(dist_ood, self.push_fraction)
        push = (dist_ood * (dist_ood < tau)).mean()
        return self.loss_weight * (scale * pull - push)


@MODELS.register_module()
class OoDClassificationLoss(nn.Module):
    """Multi-label soft-margin loss of OoD images against the all-zero
    label::

        L_ood = (1/B) · Σ_b keep_b · mean_c softplus(z_bc)

    (``softplus(z) = −log(1 − σ(z))``, the BCE of target 0). ``keep_b`` is
    0 for an image whose top class (``argmax_c z_bc``) is in
    ``exclude_classes``; excluded images still count in B, as in the
    reference. The reference excludes VOC's class 4 ('bottle') by a
    hard-coded, unexplained index; here the list is explicit and empty by
    default.

    Args:
        exclude_classes: foreground label indices (0-based: index i is
            ``metainfo['classes'][i + 1]``) whose top-scoring OoD images are
            not penalised. Reference VOC parity: ``(4, )``.
        loss_weight: β (reference 0.25).
    """

    def __init__(self,
                 exclude_classes: Sequence[int] = (),
                 loss_weight: float = 0.25) -> None:
        super().__init__()
        excluded = []
        for value in exclude_classes:
            if isinstance(value, bool) or not isinstance(
                    value, int) or value < 0:
                raise ConfigError(
                    f'OoDClassificationLoss: exclude_classes must hold '
                    f'foreground label indices (ints >= 0), got '
                    f'{list(exclude_classes)}')
            excluded.append(value)
        self.exclude_classes = tuple(sorted(set(excluded)))
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        """Args: ``logits`` B x C of the (perturbed) OoD images."""
        if logits.ndim != 2:
            raise ValueError(f'OoDClassificationLoss: logits must be B x C, '
                             f'got {tuple(logits.shape)}')
        num_classes = logits.shape[1]
        if self.exclude_classes and self.exclude_classes[-1] >= num_classes:
            raise ConfigError(
                f'OoDClassificationLoss: exclude_classes '
                f'{list(self.exclude_classes)} has an index >= C = '
                f'{num_classes}; indices are 0..{num_classes - 1}')
        per_image = F.softplus(logits).mean(dim=1)
        if self.exclude_classes:
            top = logits.detach().argmax(dim=1)
            excluded = torch.tensor(self.exclude_classes, device=top.device)
            keep = ~torch.isin(top, excluded)
            per_image = per_image * keep.to(per_image)
        return self.loss_weight * per_image.sum() / len(logits)
