"""A tqdm progress bar over the test loop (long inference stages)."""
from typing import Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from tqdm import tqdm

from mmwsss.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Show a progress bar for test/val loops on the main process.

    Args:
        desc: text in front of the bar.
    """

    priority = 'VERY_LOW'

    def __init__(self, desc: str = 'inference') -> None:
        self.desc = desc
        self._bar: Optional[tqdm] = None

    def _open(self, runner, loader) -> None:
        if is_main_process():
            self._bar = tqdm(total=len(loader), desc=self.desc,
                             dynamic_ncols=True)

    def _step(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def before_test_epoch(self, runner) -> None:
        self._open(runner, runner.test_dataloader)

    def after_test_iter(self, runner, batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        self._step()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._close()
