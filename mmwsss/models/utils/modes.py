"""``forward(mode=...)`` of mmengine models with one dispatch.

mmengine calls ``forward(inputs, data_samples, mode)`` with mode ``'loss'``
(training), ``'predict'`` (testing) or ``'tensor'`` (raw outputs). Models
that mix this in implement ``loss``, ``predict`` and ``_forward`` (the raw
outputs, as MMSeg's segmentors do) and get the same dispatch and error.
"""
from typing import Any, Optional

import torch


class ModeDispatchMixin:
    """``forward`` → ``loss`` / ``predict`` / ``_forward`` by ``mode``."""

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Any:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs)
        raise ValueError(f'unknown mode "{mode}" (loss, predict, tensor)')
