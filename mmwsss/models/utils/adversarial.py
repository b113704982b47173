"""One normalised gradient-ascent step on the input images (W-OoD's
"climb" of the OoD batch, spec §2.3 step 2; AdvCAM iterates similar
steps)."""
from typing import Callable

import torch


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
    lo, hi = x.min(), x.max()
    with torch.enable_grad():
        probe = x.clone().requires_grad_(True)
        logits = model_fn(probe)
        if logits.ndim != 2 or len(logits) != len(x):
            raise ValueError(f'model_fn must return B x C logits for a '
                             f'batch of {len(x)}, got {tuple(logits.shape)}')
        objective = logits.max(dim=1).values.sum()
        grad, = torch.autograd.grad(objective, probe)
    scale = grad.abs().max()
    if scale == 0:
        return x.clone()
    return (x + step * grad / scale).clamp(lo, hi).detach()
