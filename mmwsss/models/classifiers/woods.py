"""W-OoD (Lee et al., CVPR 2022): fine-tune a trained CAM classifier with
out-of-distribution images (README: W-OoD, stage 1).

Each training step sees an in-distribution batch ``x`` with labels ``y``
and an OoD batch (``data['ood']``, added by ``OoDBatchHook``)::

    L = BCE(z(x), y) + λ·L_M(f(x), y; μ, ν) + β·L_ood(z(x̃_ood))

``z`` are the class logits, ``f = GAP(features)``, ``μ``/``ν`` the fixed
class / OoD centres (buffers, filled before training by
``WOoDCentresHook``), ``x̃_ood`` the OoD batch after one adversarial climb
towards a higher top-class score. λ and β are the ``loss_weight`` of
``metric_loss`` and ``ood_loss``. Inference is the CAM classifier's.
"""
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper

from mmwsss.models.utils import adversarial_climb
from mmwsss.models.utils.checkpoint import load_weights, mmwsss_keys
from mmwsss.registry import MODELS
from mmwsss.utils.errors import ConfigError
from .cam_classifier import CAMClassifier

#: How to provide the centres; named in the error when they are missing.
CENTRES_FIX = (
    "add dict(type='WOoDCentresHook', centres_file=FILE) to custom_hooks, "
    'with FILE from `python tools/woods_centres.py CONFIG CHECKPOINT --out '
    "FILE`, or dict(type='WOoDCentresHook') to compute them in-process "
    'before training')


def _unwrap(module: nn.Module) -> nn.Module:
    """The module inside a (DDP) wrapper."""
    return module.module if is_model_wrapper(module) else module


@MODELS.register_module()
class WOoD(CAMClassifier):
    """CAM classifier fine-tuned with W-OoD's metric and OoD losses.

    A subclass of :class:`CAMClassifier`: the network, its freezing options
    (``freeze_bn``, ``frozen_modules``; the reference trains only stage 3,
    stage 4 and the head, with every BN fixed) and the CAM / TTA inference
    are the CAM classifier's, so ``tools/infer_cams.py`` runs on W-OoD
    configs and checkpoints unchanged.

    The centres are buffers (``class_centres`` C×D, ``ood_centres`` K×D,
    ``centres_ready``), saved in every checkpoint and restored on resume;
    they are fixed during training, as in the reference.

    Args:
        init_checkpoint: the trained in-distribution classifier (a CAM or
            P-NOC checkpoint) loaded in ``init_weights``: W-OoD fine-tunes
            it, and the centres are computed with it. None leaves the
            initial weights (tests); ``WOoDCentresHook`` refuses to train
            then unless ``load_from`` is set.
        num_clusters: K, the number of OoD centres (reference 50).
        metric_loss: :class:`WOoDMetricLoss` config (λ = its
            ``loss_weight``, reference 0.007).
        ood_loss: :class:`OoDClassificationLoss` config (β = its
            ``loss_weight``, reference 0.25).
        climb_step: the largest input change of the adversarial climb of
            the OoD batch (reference 0.07, on normalised inputs).
        ood_key: the training-batch field holding the OoD batch (the
            ``key`` of ``OoDBatchHook``).
        **kwargs: :class:`CAMClassifier` arguments (``backbone``,
            ``num_classes``, ``in_channels``, ``loss`` = the BCE term, ...).
    """

    def __init__(self,
                 init_checkpoint: Optional[str] = None,
                 num_clusters: int = 50,
                 metric_loss: dict = dict(type='WOoDMetricLoss'),
                 ood_loss: dict = dict(type='OoDClassificationLoss'),
                 climb_step: float = 0.07,
                 ood_key: str = 'ood',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if num_clusters < 1:
            raise ConfigError(f'model.num_clusters must be >= 1, got '
                              f'{num_clusters}')
        if climb_step < 0:
            raise ConfigError(f'model.climb_step must be >= 0, got '
                              f'{climb_step}')
        self.init_checkpoint = init_checkpoint
        self.num_clusters = int(num_clusters)
        self.metric_loss = MODELS.build(metric_loss)
        self.ood_loss = MODELS.build(ood_loss)
        self.climb_step = float(climb_step)
        self.ood_key = ood_key
        dim = self.head.in_channels
        self.register_buffer('class_centres',
                             torch.zeros(self.num_classes, dim))
        self.register_buffer('ood_centres', torch.zeros(num_clusters, dim))
        self.register_buffer('centres_ready',
                             torch.zeros((), dtype=torch.bool))

    # ---------------------------------------------------------------- set-up
    def init_weights(self) -> None:
        """ImageNet weights (``pretrained``), then the in-distribution
        classifier (``init_checkpoint``)."""
        super().init_weights()
        if self.init_checkpoint:
            load_weights(self, self.init_checkpoint, 'model.init_checkpoint',
                         key_map=mmwsss_keys,
                         required=self.inference_prefixes())
        else:
            print_log(
                'model.init_checkpoint is None: W-OoD starts from the '
                'initial weights, not from a trained classifier',
                logger='current', level=30)

    @staticmethod
    def inference_prefixes() -> Tuple[str, ...]:
        """Tensors a checkpoint must have for CAM inference and to start
        W-OoD (a plain CAM checkpoint has no centres)."""
        return ('backbone.', 'head.')

    @property
    def feature_dim(self) -> int:
        """D, the channels of the features the head sees."""
        return int(self.class_centres.shape[1])

    @property
    def has_centres(self) -> bool:
        """Whether the centres were set (by the hook or a checkpoint)."""
        return bool(self.centres_ready)

    def set_centres(self, class_centres: torch.Tensor,
                    ood_centres: torch.Tensor) -> None:
        """Store the fixed centres (C×D class, K×D OoD)."""
        want_cls = tuple(self.class_centres.shape)
        want_ood = tuple(self.ood_centres.shape)
        if tuple(class_centres.shape) != want_cls:
            raise ConfigError(
                f'W-OoD: {tuple(class_centres.shape)} class centres, the '
                f'model needs {want_cls} (num_classes x feature channels); '
                'compute them with this config and its init_checkpoint')
        if tuple(ood_centres.shape) != want_ood:
            raise ConfigError(
                f'W-OoD: {tuple(ood_centres.shape)} OoD centres, the model '
                f'needs {want_ood}: set model.num_clusters='
                f'{len(ood_centres)} or recompute them with '
                f'--num-clusters {want_ood[0]}')
        self.class_centres.copy_(class_centres.detach())
        self.ood_centres.copy_(ood_centres.detach())
        self.centres_ready.fill_(True)

    # --------------------------------------------------------------- training
    def _logits_fn(self):
        """Class logits of an input batch through the unwrapped network (no
        DDP hooks: the climb takes gradients for the inputs only)."""
        backbone, head = _unwrap(self.backbone), _unwrap(self.head)

        def logits(x: torch.Tensor) -> torch.Tensor:
            feats = backbone(x)
            if isinstance(feats, (list, tuple)):
                feats = feats[self.feature_index]
            return self.pool(head(feats))

        return logits

    def loss(self, inputs: torch.Tensor, data_samples: list,
             ood_inputs: Optional[torch.Tensor] = None
             ) -> Dict[str, torch.Tensor]:
        """``loss_cls`` (BCE), ``loss_metric`` (λ·L_M) and ``loss_ood``
        (β·L_ood), plus ``ood_top_prob`` (mean top sigmoid score of the
        climbed OoD images, a diagnostic). A term whose weight is 0 is
        logged as 0 and not computed (no OoD batch or centres needed).

        The climbed OoD images go through the network in one batch with the
        in-distribution ones: with fixed BN (the reference) that equals two
        passes, and under DDP every parameter takes one gradient.
        """
        labels = self.stack_labels(data_samples).to(inputs.device)
        use_metric = self.metric_loss.loss_weight != 0
        use_ood = self.ood_loss.loss_weight != 0
        if use_metric and not self.has_centres:
            raise ConfigError(f'W-OoD centres are not set: {CENTRES_FIX} '
                              '(or set model.metric_loss.loss_weight=0)')
        batch = inputs
        if use_ood:
            if ood_inputs is None:
                raise ConfigError(
                    f"W-OoD needs an OoD batch in data['{self.ood_key}']: "
                    "add dict(type='OoDBatchHook', ood_dataloader=...) to "
                    'custom_hooks (see configs/woods/) or set '
                    'model.ood_loss.loss_weight=0; under DDP set '
                    "model_wrapper_cfg=dict(type='MMSeparateDistributed"
                    "DataParallel'), which runs the model's train_step")
            if ood_inputs.shape[1:] != inputs.shape[1:]:
                raise ConfigError(
                    f'W-OoD: OoD inputs {tuple(ood_inputs.shape[1:])} and '
                    f'training inputs {tuple(inputs.shape[1:])} differ in '
                    'size; give both the same crop and set '
                    'model.data_preprocessor.size to it')
            climbed = adversarial_climb(self._logits_fn(), ood_inputs,
                                        self.climb_step)
            batch = torch.cat([inputs, climbed])
        feats = self.extract_feat(batch)
        logits = self.pool(self.head(feats))
        num = len(inputs)
        zero = logits.new_zeros(())
        losses = dict(loss_cls=self.loss_cls(logits[:num], labels),
                      loss_metric=zero, loss_ood=zero)
        if use_metric:
            pooled = feats[:num].mean(dim=(2, 3))
            losses['loss_metric'] = self.metric_loss(
                pooled, labels, self.class_centres, self.ood_centres)
        if use_ood:
            ood_logits = logits[num:]
            losses['loss_ood'] = self.ood_loss(ood_logits)
            losses['ood_top_prob'] = ood_logits.detach().sigmoid().amax(
                dim=1).mean()
        return losses

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """One update on the in-distribution batch and its OoD batch
        (``data[ood_key]``, preprocessed here like the training batch)."""
        if not isinstance(data, dict):
            raise TypeError('W-OoD needs dict training batches (mmengine\'s '
                            f'pseudo_collate), got {type(data).__name__}')
        data = dict(data)
        ood = data.pop(self.ood_key, None)
        with optim_wrapper.optim_context(self):
            batch = self.data_preprocessor(data, True)
            ood_inputs = None
            if ood is not None and self.ood_loss.loss_weight != 0:
                ood_inputs = self.data_preprocessor(ood, True)['inputs']
            losses = self.loss(batch['inputs'], batch['data_samples'],
                               ood_inputs)
            loss, log_vars = self.parse_losses(losses)
            optim_wrapper.update_params(loss)
        return log_vars
