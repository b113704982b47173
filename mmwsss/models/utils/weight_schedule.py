"""Loss-weight schedules driven by training progress (one implementation
for every method; README: recipes ``linear_schedule``)."""
from typing import Union

from mmengine.logging import MessageHub

from mmwsss.utils.reprs import format_repr


class LinearWeight:
    """``start → end`` linearly over the first ``fraction`` of training,
    then ``end``. ``fraction=0`` is the constant ``end``.

    Progress is the micro-iteration index over the total number of
    iterations (as the reference), read from mmengine's ``MessageHub``
    (``iter``, ``max_iters``), so a resumed run continues exactly.
    """

    def __init__(self, start: float = 0.0, end: float = 1.0,
                 fraction: float = 1.0) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f'fraction must lie in [0, 1], got {fraction}')
        self.start, self.end, self.fraction = float(start), float(end), \
            float(fraction)

    def __call__(self, step: int, total: int) -> float:
        if self.fraction == 0.0 or total <= 0:
            return self.end
        value = self.start + (self.end - self.start) * step / (
            total * self.fraction)
        return min(value, self.end) if self.end >= self.start else max(
            value, self.end)

    def __repr__(self) -> str:
        return format_repr(self, 'start', 'end', 'fraction')


def build_weight(cfg: Union[float, int, dict]) -> LinearWeight:
    """A float is a constant weight; a dict gives ``LinearWeight`` args."""
    if isinstance(cfg, (int, float)):
        return LinearWeight(cfg, cfg, 0.0)
    cfg = dict(cfg)
    kind = cfg.pop('type', 'linear')
    if kind != 'linear':
        raise KeyError(f'unknown weight schedule type "{kind}" (linear)')
    return LinearWeight(**cfg)


def training_progress() -> tuple:
    """(iteration, max iterations) of the running training loop."""
    hub = MessageHub.get_current_instance()
    return int(hub.get_info('iter', 0) or 0), int(
        hub.get_info('max_iters', 0) or 0)
