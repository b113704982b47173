"""OoDBatchHook: adds an out-of-distribution batch to every training batch
(W-OoD's second data stream)."""
import copy
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmwsss.datasets.cycling import CyclingLoader
from mmwsss.registry import HOOKS
from mmwsss.utils.errors import ConfigError


@HOOKS.register_module()
class OoDBatchHook(Hook):
    """Draw one batch of ``ood_dataloader`` per training iteration and put
    it into the training batch under ``key``.

    ``before_train`` builds the loader with ``Runner.build_dataloader``
    (its own dataset, batch size, sampler and workers; the sampler seeded
    with the runner's seed) and wraps it in a :class:`CyclingLoader`, which
    restarts it with a new shuffling epoch whenever it is exhausted.
    ``before_train_iter`` then sets ``data_batch[key]`` to the next OoD
    batch (collated like the training batch: ``inputs`` and
    ``data_samples``, not yet preprocessed). The model's ``train_step``
    takes it out and preprocesses it itself::

        ood = self.data_preprocessor(data.pop('ood'), True)
        data = self.data_preprocessor(data, True)

    Why a hook that fills a batch field: the train loop, the in-distribution
    dataloader and its ``DistSamplerSeedHook`` stay stock mmengine, the OoD
    stream keeps its own batch size and sampler (the reference draws 16 ID
    and 16 OoD images per step), and only the model's ``train_step`` sees
    the extra field. A model using it must run its own ``train_step`` also
    under DDP (``MMSeparateDistributedDataParallel``, as P-NOC):
    ``MMDistributedDataParallel`` preprocesses the batch itself and would
    drop the field. Validation and test batches are untouched.

    On resume the stream restarts at the cycle ``runner.iter //
    len(loader)`` had reached, from the start of that cycle's order
    (reproducible, but not the exact batches an uninterrupted run draws).

    Args:
        ood_dataloader: dataloader config, as ``train_dataloader`` (e.g.
            ``dataset=dict(type='OoDDataset', ...)``, ``batch_size``,
            ``sampler=dict(type='DefaultSampler', shuffle=True)``,
            ``num_workers``).
        key: the training-batch field that receives the OoD batch.
    """

    priority = 'NORMAL'

    def __init__(self, ood_dataloader: dict, key: str = 'ood') -> None:
        if not isinstance(ood_dataloader, dict) or (
                'dataset' not in ood_dataloader):
            raise ConfigError(
                'OoDBatchHook: ood_dataloader must be a dataloader config '
                'with a `dataset` (e.g. dict(type="OoDDataset", ...)), '
                '`batch_size` and `sampler`')
        self.ood_dataloader = ood_dataloader
        self.key = key
        self.stream: Optional[CyclingLoader] = None

    def before_train(self, runner) -> None:
        loader = runner.build_dataloader(
            copy.copy(self.ood_dataloader), seed=runner.seed)
        start = runner.iter // max(len(loader), 1)
        self.stream = CyclingLoader(loader, start_cycle=start,
                                    name='OoDBatchHook ood_dataloader')
        print_log(
            f'OoDBatchHook: {len(loader.dataset)} OoD images, '
            f'{len(loader)} batches of {loader.batch_size} per cycle, '
            f'starting at cycle {start}', logger='current')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        if self.stream is None:
            raise RuntimeError('OoDBatchHook: before_train did not run')
        if not isinstance(data_batch, dict):
            raise TypeError(
                'OoDBatchHook needs dict training batches (mmengine\'s '
                f'pseudo_collate), got {type(data_batch).__name__}')
        if self.key in data_batch:
            raise ConfigError(
                f'OoDBatchHook: the training batch already has a '
                f'"{self.key}" field; choose another `key`')
        data_batch[self.key] = next(self.stream)
