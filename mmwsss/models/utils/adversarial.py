"""Normalised gradient-ascent steps on input images: W-OoD's "climb" of
the OoD batch (README: W-OoD) and the step AdvCAM iterates (README: AdvCAM)."""
from typing import Callable

import torch


def normalised_ascent(inputs: torch.Tensor, grad: torch.Tensor, step: float,
                      groups: int = 1) -> torch.Tensor:
    """``clamp(x + step * g / max|g|, min(x), max(x))`` with the maximum,
    minimum and maximum taken over each of ``groups`` equal slices of the
    batch (1: the whole tensor, as W-OoD's climb; one per class and flip
    pair for AdvCAM, so classes batched together move as they would
    alone). A group whose gradient is zero stays unchanged.

    Args:
        inputs: (N, ...) input batch; N must be a multiple of ``groups``.
        grad: gradient of the objective w.r.t. ``inputs``.
        step: the largest change of any input value in a group.
        groups: number of independent slices along the batch dimension.

    Returns:
        The stepped batch, detached.
    """
    if step < 0:
        raise ValueError(f'step must be >= 0, got {step}')
    if groups < 1 or len(inputs) % groups:
        raise ValueError(f'cannot split a batch of {len(inputs)} into '
                         f'{groups} equal groups')
    x = inputs.detach()
    shape = (groups, ) + (1, ) * x.ndim
    flat_x = x.reshape(groups, -1)
    lo, hi = flat_x.min(1).values.view(shape), flat_x.max(1).values.view(
        shape)
    scale = grad.reshape(groups, -1).abs().max(1).values.view(shape)
    # a zero gradient gives 0 / tiny = 0: the group stays where it is
    scale = scale.clamp_min(torch.finfo(scale.dtype).tiny)
    size = (groups, len(x) // groups) + tuple(x.shape[1:])
    moved = x.reshape(size) + step * grad.reshape(size) / scale
    return torch.maximum(torch.minimum(moved, hi), lo).reshape(x.shape)


def adversarial_climb(model_fn: Callable[[torch.Tensor], torch.Tensor],
                      inputs: torch.Tensor,
                      step: float = 0.07) -> torch.Tensor:
    """Perturb ``inputs`` towards a higher top class score::

        g = grad_x  sum_b max_c z_bc(x)
        x~ = clamp(x + step * g / max|g|, min(x), max(x))

    ``max|g|``, ``min(x)`` and ``max(x)`` are taken over the whole batch
    tensor, as in the reference (not per image or channel), so the step
    moves the most sensitive input value of the batch by exactly ``step``
    and no value leaves the batch's range. With a zero gradient the inputs
    come back unchanged.

    W-OoD then trains the classifier to score the perturbed OoD images as
    "no class": the climb makes the OoD batch harder.

    The gradient is taken with ``torch.autograd.grad`` on the inputs only,
    so no parameter's ``.grad`` is touched; but ``model_fn`` runs a real
    forward pass, so BatchNorm layers in train mode update their running
    statistics (the reference's BN is frozen).

    Args:
        model_fn: maps a B x ... input batch to B x C class logits.
        inputs: the (normalised) input batch.
        step: the largest change of any input value (reference: 0.07).

    Returns:
        The perturbed batch, detached, same shape and dtype as ``inputs``.
    """
    if step < 0:
        raise ValueError(f'step must be >= 0, got {step}')
    x = inputs.detach()
    with torch.enable_grad():
        probe = x.clone().requires_grad_(True)
        logits = model_fn(probe)
        if logits.ndim != 2 or len(logits) != len(x):
            raise ValueError(f'model_fn must return B x C logits for a '
                             f'batch of {len(x)}, got {tuple(logits.shape)}')
        objective = logits.max(dim=1).values.sum()
        grad, = torch.autograd.grad(objective, probe)
    return normalised_ascent(x, grad, step)
