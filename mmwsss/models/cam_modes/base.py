"""CAM inference modes: how a CAM classifier turns a batch into TTA maps.

A mode is selected by ``model.test_cfg.cam_mode`` (a config dict with a
``type`` registered in :data:`CAM_MODES`) and called by
:meth:`CAMClassifier.predict_cams`. Every mode returns the same triple, so
``predict``, :class:`~mmwsss.evaluation.CAMWriter` and every downstream tool
(eval_cams, make_pseudo_masks, the random walk) work unchanged:

- ``cams``: (B, C, H, W) summed non-negative maps, not normalised (classes a
  mode skips are zero);
- ``logits``: (B, C) class logits of the plain scale-1 pass;
- ``coarse``: the same sum on the stride-``test_cfg.coarse_stride`` grid,
  or None when ``coarse_stride`` is None.

``PlainCAM`` (the default) is the multi-scale + flip CAM; ``AdvCAM``
(:mod:`.advcam`) refines it by anti-adversarial image perturbation.
"""
import inspect
from abc import ABCMeta, abstractmethod
from typing import TYPE_CHECKING, Callable, Optional, Sequence, Tuple

import torch
from mmengine.registry import Registry

from mmwsss.models.utils import multi_scale_flip_forward
from mmwsss.utils.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from mmwsss.models.classifiers import CAMClassifier

CAM_MODES = Registry('cam mode', scope='mmwsss')

#: (cams, logits, coarse) of a batch, see the module docstring.
CAMResult = Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]

#: ``test_cfg.cam_mode`` when a config sets none: the plain TTA CAM.
DEFAULT_CAM_MODE = dict(type='PlainCAM')


class CAMMode(metaclass=ABCMeta):
    """Interface of a CAM inference mode."""

    @abstractmethod
    def __call__(self, model: 'CAMClassifier', inputs: torch.Tensor,
                 data_samples: Optional[Sequence]) -> CAMResult:
        """TTA maps of ``inputs`` (B×3×H×W, normalised) with the settings
        of ``model.test_cfg`` (scales, flip, stride, align, resize,
        coarse_stride, coarse_align, keys).

        Args:
            model: the CAM classifier (in eval mode).
            inputs: the preprocessed batch.
            data_samples: the batch's samples (labels for ``keys='gt'``);
                None when the caller has none.
        """


@CAM_MODES.register_module()
class PlainCAM(CAMMode):
    """The multi-scale + flip CAM: the sum over scales of ``ReLU(CAM)`` of
    each image and its flip, one forward pass per scale, for every class."""

    def __call__(self, model: 'CAMClassifier', inputs: torch.Tensor,
                 data_samples: Optional[Sequence] = None) -> CAMResult:
        def forward(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
            raw = model.forward_cam(x)
            return raw, raw

        return tta_maps(model, forward, inputs)


def tta_maps(model: 'CAMClassifier',
             forward: Callable[[torch.Tensor], Tuple[torch.Tensor,
                                                     torch.Tensor]],
             inputs: torch.Tensor) -> CAMResult:
    """Multi-scale + flip sum of the maps of ``forward`` with the TTA
    settings of ``model.test_cfg``, with the class logits of the scale-1
    pass.

    ``forward(x)`` returns ``(maps, cams)``: the maps to sum (the CAMs, or
    another head's maps, e.g. ICD's top-down logits) and the CAMs whose
    pooling gives the logits (``model.pool``; an extra CAM pass when the
    scales have no 1.0). Returns ``(maps, logits, coarse maps or None)``.
    """
    cfg = model.test_cfg
    record = {}

    def scaled(x: torch.Tensor) -> torch.Tensor:
        maps, cams = forward(x)
        if 'logits' not in record and x.shape[-2:] == inputs.shape[-2:]:
            record['logits'] = model.pool(cams[:len(inputs)])
        return maps

    out = multi_scale_flip_forward(
        scaled, inputs, scales=cfg['scales'], flip=cfg['flip'],
        stride=cfg['stride'], align=cfg['align'], resize=model.tta_resize(),
        out_stride=cfg['coarse_stride'], coarse_align=cfg['coarse_align'])
    maps, coarse = out if cfg['coarse_stride'] else (out, None)
    logits = record.get('logits')
    if logits is None:  # no scale 1.0 among the TTA scales
        logits = model.pool(model.forward_cam(inputs))
    return maps, logits, coarse


def build_cam_mode(cfg: Optional[dict],
                   key: str = 'model.test_cfg.cam_mode') -> CAMMode:
    """The CAM mode of ``cfg`` (``dict(type=NAME, **options)``; None: the
    plain CAM).

    Raises:
        KeyError: ``type`` missing or not a registered mode; names ``key``
            and the registered modes.
        ConfigError: an option the mode does not take, or a bad value
            (names ``key`` and the option).
    """
    cfg = dict(DEFAULT_CAM_MODE if cfg is None else cfg)
    name = cfg.pop('type', None)
    registered = sorted(CAM_MODES.module_dict)
    # registered names only: Registry.get would also import dotted paths
    mode_cls = CAM_MODES.module_dict.get(name)
    if mode_cls is None:
        raise KeyError(f'{key}: unknown CAM mode type {name!r}; set '
                       f"{key}=dict(type=NAME, ...) with NAME in "
                       f'{registered}')
    options = sorted(n for n in inspect.signature(mode_cls).parameters)
    unknown = sorted(set(cfg) - set(options))
    if unknown:
        raise ConfigError(f'{key}: {name} has no option {unknown}; valid: '
                          f'{options}')
    try:
        return mode_cls(**cfg)
    except ValueError as err:
        raise ConfigError(f'{key} ({name}): {err}') from err
