"""CyclingLoader: an endless, reshuffled stream of batches from a finite
dataloader (W-OoD's OoD batches, drawn alongside every training batch)."""
from typing import Any, Iterable, Iterator, Optional

from mmwsss.utils.errors import DataError


def set_sampler_epoch(loader: Any, epoch: int) -> bool:
    """Call ``set_epoch(epoch)`` on ``loader``'s sampler (or its batch
    sampler's), as mmengine's ``DistSamplerSeedHook`` does; returns whether
    one was found."""
    for sampler in (getattr(loader, 'sampler', None),
                    getattr(getattr(loader, 'batch_sampler', None),
                            'sampler', None)):
        if hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(epoch)
            return True
    return False


class CyclingLoader:
    """Iterate ``loader`` forever, one full pass ("cycle") after another.

    Before each pass the sampler's epoch is set to the cycle number, so
    mmengine's ``DefaultSampler(shuffle=True)`` draws a new order per cycle
    from ``seed + cycle``: the stream is reproducible for a seed and every
    image is used once per cycle. Batches are never cut or merged across
    cycles (the last batch of a pass may be smaller unless the loader has
    ``drop_last=True``).

    Args:
        loader: a ``DataLoader`` (anything iterable works; ``set_epoch`` is
            called when its sampler has one).
        start_cycle: number of the first cycle (a resumed run restarts at
            the cycle it had reached).
        name: what to call the loader in errors (a config key).
    """

    def __init__(self, loader: Iterable, start_cycle: int = 0,
                 name: str = 'dataloader') -> None:
        if start_cycle < 0:
            raise ValueError(f'start_cycle must be >= 0, got {start_cycle}')
        self.loader = loader
        self.cycle = int(start_cycle)
        self.name = name
        self._iter: Optional[Iterator] = None

    def __iter__(self) -> 'CyclingLoader':
        return self

    def _restart(self) -> None:
        set_sampler_epoch(self.loader, self.cycle)
        self._iter = iter(self.loader)

    def __next__(self) -> Any:
        if self._iter is None:
            self._restart()
        try:
            return next(self._iter)
        except StopIteration:
            pass
        self.cycle += 1
        self._restart()
        try:
            return next(self._iter)
        except StopIteration:
            raise DataError(self._empty_message()) from None

    def _empty_message(self) -> str:
        dataset = getattr(self.loader, 'dataset', None)
        size = len(dataset) if hasattr(dataset, '__len__') else '?'
        batch = getattr(self.loader, 'batch_size', '?')
        drop_last = getattr(self.loader, 'drop_last', '?')
        return (f'{self.name} yields no batch ({size} images, batch_size '
                f'{batch}, drop_last={drop_last}); add images to its data '
                'set or lower its batch_size')
