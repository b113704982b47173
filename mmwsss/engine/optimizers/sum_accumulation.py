"""Gradient accumulation that sums micro-batch gradients (the reference's).

mmengine's ``OptimWrapper`` divides each micro-batch loss by the number of
accumulated micro-batches, so ``batch 16 × accumulation 2`` gives the
gradient of a batch-32 mean. The official P-NOC CAM and C²AM scripts do not
divide: their step applies the *sum* of the micro-batch gradients (twice the
batch-32 mean at accumulation 2; README, "Puzzle-CAM, OC-CSE, P-OC and
P-NOC"). These wrappers reproduce that for any model, so no model reads the
wrapper's private accumulation count. With ``accumulative_counts=1`` they
are the stock wrappers.
"""
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmwsss.registry import OPTIM_WRAPPERS


class _SumAccumulation:
    """Mixin: leave the loss unscaled, whatever the accumulation count
    (also for the last, incomplete accumulation of a run)."""

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        return loss


@OPTIM_WRAPPERS.register_module()
class SumAccumOptimWrapper(_SumAccumulation, OptimWrapper):
    """``OptimWrapper`` whose accumulation sums micro-batch gradients."""


@OPTIM_WRAPPERS.register_module()
class SumAccumAmpOptimWrapper(_SumAccumulation, AmpOptimWrapper):
    """``AmpOptimWrapper`` whose accumulation sums micro-batch gradients
    (the loss scaler still scales; only the 1/N factor is left out)."""


#: The AMP counterpart of each wrapper type ``tools/train.py --amp`` converts.
AMP_COUNTERPARTS = {
    'OptimWrapper': 'AmpOptimWrapper',
    'SumAccumOptimWrapper': 'SumAccumAmpOptimWrapper',
}
