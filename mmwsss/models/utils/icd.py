"""ICD's losses and refinement steps (Fan et al., CVPR 2020; spec §3.3) as
pure functions on batches, so each is tested on hand-made tensors.

The reference writes each term as an MXNet custom op with a hand-written
backward. Every one of those backwards equals the autograd gradient of a
loss written here with the right stop-gradients, so no
``torch.autograd.Function`` is needed:

- bottom-up (``ICD_BottomUp``): its backward feeds only the direction
  weights ``W``, through the L2-normalisation Jacobian
  ``(I − ŵŵᵀ)/‖W‖``; here the features are detached and autograd
  differentiates ``F.normalize`` (:func:`bottom_up_loss`);
- top-down (``ICD_TopDown``): gradient ``ω·(σ(z) − t)·mask·y/(hw·B)``,
  exactly the gradient of the masked BCE of :func:`top_down_loss`;
- sign correction and superpixel refinement (``AccumResign``,
  ``SPRefine``): no gradient; they run under ``torch.no_grad``.

Shapes: ``B`` images, ``C`` classes, ``h×w`` feature grid, ``S``
superpixel ids.
"""
import math
from typing import Tuple

import torch
import torch.nn.functional as F

#: Floor of the reference's divisions (``max(·, 1e-5)``).
EPS = 1e-5


def single_label_mask(labels: torch.Tensor) -> torch.Tensor:
    """(B,) 1.0 for images with exactly one class (the bottom-up loss
    learns from those only), else 0.0."""
    return (labels.sum(dim=1) == 1).to(labels.dtype)


def bottom_up_loss(feat: torch.Tensor, weight: torch.Tensor,
                   labels: torch.Tensor, scale: float = 10.0
                   ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The bottom-up loss and scores.

    ``s_bcp = ŵ_c · feat_bp`` with ``ŵ_c = W_c/‖W_c‖``, and
    ``L = −(scale / (2·hw·B)) Σ_b m_b Σ_c y_bc Σ_p s_bcp²`` (``m_b``: single
    label images). Minimising it turns ``ŵ_c`` toward the top eigenvector
    of the second moment of class-c features. ``feat`` is detached, so the
    gradient reaches ``W`` only (the reference's backward), through the
    normalisation's Jacobian ``(I − ŵŵᵀ)/‖W‖`` (autograd of
    ``F.normalize``).

    Args:
        feat: (B, D, h, w) features (BN of conv5_3).
        weight: (C, D) unnormalised directions ``W``.
        labels: (B, C) multi-hot image labels.
        scale: the reference's grad_scale (10).

    Returns:
        (loss, scores): the scalar loss and the detached (B, C, h, w)
        scores ``s`` the sign correction and refinement use.
    """
    unit = F.normalize(weight, dim=1, eps=1e-10)
    scores = torch.einsum('bdhw,cd->bchw', feat.detach(), unit)
    keep = labels * single_label_mask(labels)[:, None]
    per_class = scores.pow(2).mean(dim=(2, 3))  # (B, C): Σ_p / hw
    loss = -(scale / 2.0) * (per_class * keep).sum() / feat.shape[0]
    return loss, scores.detach()


def side_strength(cams: torch.Tensor, scores: torch.Tensor,
                  labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-class sums of the CAM strength on each side of the bottom-up
    boundary, for the sign correction.

    For image b and class c: ``pos_bc`` = mean of ``ReLU(cam_bc)`` over the
    pixels with ``s_bc > 0``, ``neg_bc`` the same over ``s_bc < 0`` (0 for
    an empty side).

    Returns:
        (sums, counts): (C, 2) sums of ``[pos, neg]`` over the images
        labelled c, and (C,) the number of those images; their quotient is
        the reference's batch mean (summed first, so DDP can all-reduce).
    """
    strength = F.relu(cams)
    pos_side = (scores > 0).to(cams.dtype)
    neg_side = (scores < 0).to(cams.dtype)

    def side_mean(side: torch.Tensor) -> torch.Tensor:
        total = (strength * side).sum(dim=(2, 3))
        return total / side.sum(dim=(2, 3)).clamp_min(1.0)

    per_image = torch.stack([side_mean(pos_side), side_mean(neg_side)],
                            dim=-1)  # (B, C, 2)
    sums = (per_image * labels[..., None]).sum(dim=0)
    return sums, labels.sum(dim=0)


def update_sign_state(state: torch.Tensor, sums: torch.Tensor,
                      counts: torch.Tensor,
                      momentum: float = 0.9) -> torch.Tensor:
    """EMA of ``[mean_pos, mean_neg]`` per class (the reference's
    AccumResign state): classes in the batch move to
    ``momentum·old + (1 − momentum)·batch mean``; the others keep theirs."""
    present = counts > 0
    batch = sums / counts.clamp_min(1.0)[:, None]
    new = momentum * state + (1.0 - momentum) * batch
    return torch.where(present[:, None], new, state)


def signs_from_state(state: torch.Tensor) -> torch.Tensor:
    """(C,) +1 where the CAM is at least as strong on the positive side as
    on the negative one, else −1."""
    return torch.where(state[:, 0] >= state[:, 1], 1.0, -1.0).to(state)


def superpixel_membership(superpixels: torch.Tensor,
                          size: Tuple[int, int],
                          num_ids: int) -> torch.Tensor:
    """Soft superpixel membership on the feature grid.

    Equals resizing the one-hot maps ``onehot(sp)`` (B×S×H×W) to ``size``
    bilinearly with ``align_corners=True`` (the reference's
    ``BilinearResize2D``), computed from the 4 neighbours of each output
    cell instead, so the full-resolution one-hot tensor is never built.

    Args:
        superpixels: (B, H, W) integer ids in ``0..num_ids-1``.
        size: (h, w) of the feature grid.
        num_ids: S, the depth of the one-hot encoding.

    Returns:
        (B, S, h·w) weights; each column sums to 1.
    """
    b, height, width = superpixels.shape
    h, w = size
    device = superpixels.device

    def axis(n_in: int, n_out: int) -> Tuple[torch.Tensor, torch.Tensor,
                                             torch.Tensor]:
        step = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        pos = torch.arange(n_out, device=device, dtype=torch.float32) * step
        lo = pos.floor().long().clamp(0, n_in - 1)
        hi = (lo + 1).clamp(max=n_in - 1)
        return lo, hi, pos - lo.float()

    y0, y1, wy = axis(height, h)
    x0, x1, wx = axis(width, w)
    sp = superpixels.long()
    out = torch.zeros(b, num_ids, h * w, device=device)
    for ys, fy in ((y0, 1 - wy), (y1, wy)):
        for xs, fx in ((x0, 1 - wx), (x1, wx)):
            ids = sp[:, ys][:, :, xs].reshape(b, 1, h * w)
            weight = (fy[:, None] * fx[None, :]).reshape(1, 1, h * w)
            out.scatter_add_(1, ids, weight.expand(b, 1, h * w).contiguous())
    return out


@torch.no_grad()
def superpixel_refine(scores: torch.Tensor, membership: torch.Tensor,
                      labels: torch.Tensor) -> torch.Tensor:
    """The reference's SPRefine: average the sign-corrected bottom-up scores
    over superpixels.

    1. ``sc = s·y``; a superpixel is foreground if, for some class, the
       membership-weighted sum of ``sign(sc)`` over it is > 1e-5;
    2. its class is the argmax of the superpixel mean of
       ``ReLU(sc) / max_c sc`` (per-pixel maximum over classes);
    3. for that (labelled) class its value is the mean of ``ReLU(sc)``
       over the superpixel, for every other class (and for background
       superpixels) the mean of ``min(sc, 0)``;
    4. values go back to the cells through the membership weights.

    Args:
        scores: (B, C, h, w) sign-corrected scores ``s'``.
        membership: (B, S, h·w) from :func:`superpixel_membership`.
        labels: (B, C) multi-hot labels.

    Returns:
        (B, C, h, w) refined scores ``s''``.
    """
    b, c, h, w = scores.shape
    sc = scores.flatten(2) * labels[..., None]  # (B, C, P)
    m_t = membership.transpose(1, 2)  # (B, P, S)
    votes = torch.bmm(torch.sign(sc), m_t)  # (B, C, S)
    is_fg = votes.max(dim=1).values > EPS  # (B, S)
    area = membership.sum(dim=2, keepdim=True).clamp_min(EPS)
    m_avg_t = (membership / area).transpose(1, 2)  # (B, P, S)
    peak = sc.max(dim=1, keepdim=True).values.clamp_min(EPS)
    share = torch.bmm(F.relu(sc) / peak, m_avg_t)  # (B, C, S)
    cls = share.argmax(dim=1)  # (B, S)
    fg = (F.one_hot(cls, c).transpose(1, 2).to(sc) * is_fg[:, None].to(sc)
          * labels[..., None])  # (B, C, S)
    pos_mean = torch.bmm(F.relu(sc), m_avg_t)
    neg_mean = torch.bmm(sc.clamp_max(0), m_avg_t)
    values = torch.where(fg > 0, pos_mean, neg_mean)
    return torch.bmm(values, membership).view(b, c, h, w)


def signed_normalise(scores: torch.Tensor) -> torch.Tensor:
    """``ReLU(s)/max_p s + min(s, 0)/(−min_p s)`` per image and class: the
    positive part scaled to [0, 1], the negative part to [−1, 0]."""
    flat = scores.flatten(2)
    top = flat.max(dim=2).values.clamp_min(EPS)[..., None, None]
    bottom = (-flat.min(dim=2).values).clamp_min(EPS)[..., None, None]
    return F.relu(scores) / top + scores.clamp_max(0) / bottom


def top_down_targets(refined: torch.Tensor, threshold: float = 0.2
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """(targets, mask) of the top-down head: ``t = 1[n > 0]`` where
    ``|n| > threshold``, ``n`` = :func:`signed_normalise` of the refined
    scores."""
    norm = signed_normalise(refined)
    return (norm > 0).to(refined), (norm.abs() > threshold).to(refined)


def top_down_loss(logits: torch.Tensor, refined: torch.Tensor,
                  labels: torch.Tensor, threshold: float = 0.2,
                  weight: float = 1.0) -> torch.Tensor:
    """``ω/(hw·B) Σ_b Σ_c y_bc Σ_p mask·BCEwithLogits(z, t)``.

    The normalisation is by ``hw``, not by the number of masked cells, as
    in the reference; its gradient ``ω·(σ(z) − t)·mask·y/(hw·B)`` is the
    reference's hand-written one.

    Args:
        logits: (B, C, h, w) top-down logits ``z``.
        refined: (B, C, h, w) refined bottom-up scores ``s''`` (no grad).
        labels: (B, C) multi-hot labels.
        threshold: cells with ``|n| ≤ threshold`` are ignored (0.2).
        weight: ω, the warm-up weight.
    """
    target, mask = top_down_targets(refined.detach(), threshold)
    bce = F.binary_cross_entropy_with_logits(logits, target,
                                             reduction='none')
    keep = mask * labels[..., None, None]
    b, _, h, w = logits.shape
    return weight * (bce * keep).sum() / (h * w * b)


def exp_warmup(step: int, total: int, rate: float = 10.0) -> float:
    """ICD's warm-up of the top-down loss: ``exp(−rate·r/total)`` with
    ``r = total − step`` counting down from ``total`` to 1 over the first
    ``total`` iterations (``step`` 0-based), then 1. ``total ≤ 0``: 1."""
    if total <= 0 or step >= total:
        return 1.0
    return math.exp(-rate * (total - max(step, 0)) / total)
