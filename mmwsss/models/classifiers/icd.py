"""ICD: Intra-Class Discriminator (Fan, Zhang, Song, Tan, CVPR 2020).

Alongside a CAM branch, ICD learns one direction ``ŵ_c`` per class in the
space of the (batch-normalised) conv5_3 features that splits the pixels of
class-c images into object and background (bottom-up, unsupervised). Its
scores are sign-corrected against the CAM and averaged over superpixels;
a top-down 1×1 head on ``[feat, fc6_ft, fc7_ft]`` learns to reproduce the
resulting sign map. The seeds come from the top-down logits (spec §3).
The losses live in :mod:`mmwsss.models.utils.icd`.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_reduce
from mmengine.logging import MessageHub

from mmwsss.models.cam_modes import CAMResult, tta_maps
from mmwsss.models.utils import strided_size
from mmwsss.models.utils.icd import (bottom_up_loss, exp_warmup,
                                     side_strength, signs_from_state,
                                     superpixel_membership,
                                     superpixel_refine, top_down_loss,
                                     update_sign_state)
from mmwsss.registry import MODELS
from mmwsss.utils.errors import ConfigError
from mmwsss.utils.options import merge_options

from .cam_classifier import CAMClassifier

#: ``test_cfg`` keys ICD adds to the CAM classifier's.
ICD_TEST_CFG = dict(
    # which maps predict writes as CAMs: 'td' (the top-down logits, ICD's
    # seeds) or 'cam' (the CAM branch, for comparison)
    maps='td',
    # pad the (normalised) image with 0 (the mean colour) at the bottom /
    # right to at least pad_to × pad_to before the TTA, then crop the maps
    # (the reference's 513 canvas); None: no padding
    pad_to=None,
)
MAP_KINDS = ('td', 'cam')


@MODELS.register_module()
class ICD(CAMClassifier):
    """ICD on a backbone returning ``(conv5_3, fc7)`` (``DeepLabVGG16``).

    Training (``loss``) returns ``loss_cls`` (CAM branch,
    ``Σ_c BCE(GAP(cam), y) / B``), ``loss_bu`` (bottom-up, feeds the
    directions only) and ``loss_td`` (top-down, feeds its head, fc6_ft,
    fc7_ft, the BN's β and the backbone), plus the warm-up weight
    ``td_weight`` (logged, not summed). Each data sample needs
    ``gt_label`` and ``gt_superpixels`` (``LoadSuperpixels``,
    ``SuperpixelIds``, ``PackWSSSInputs``; fixed-size crops).

    Inference (``predict``) is the CAM classifier's: ``cams`` are the TTA
    sum of ``ReLU`` of the top-down logits (``test_cfg.maps='td'``),
    max-normalised, so ``tools/infer_cams.py`` and ``tools/eval_cams.py``
    run on ICD unchanged; ``pred_score`` comes from the CAM branch.

    The top-down warm-up ``ω = exp(−10·r/R)`` runs over the first
    ``R = warmup_epochs × iterations per epoch`` iterations; the
    iteration, ``max_iters`` and ``max_epochs`` are read from mmengine's
    ``MessageHub`` (set by the runner's ``RuntimeInfoHook`` before each
    iteration), so a resumed run continues the schedule. Outside a runner
    (no ``max_iters``) ω is 1.

    The sign state (the reference's ``AccumResign``, an EMA of the CAM
    strength on each side per class) is the buffer ``sign_state``, saved
    in checkpoints; under DDP the batch statistics are all-reduced, so it
    moves once per iteration (the reference moves it once per GPU).

    Args:
        backbone: config of a backbone returning ``(conv5_3, fc7)``.
        num_classes: foreground classes C.
        in_channels: channels of fc7 (also the width of fc6_ft/fc7_ft,
            which start as copies of the backbone's fc6/fc7).
        feat_channels: channels of conv5_3.
        bu_scale: the bottom-up grad_scale (10).
        sign_momentum: momentum of the sign-state EMA (0.9).
        td_threshold: top-down cells with ``|n| ≤`` it are ignored (0.2).
        warmup_epochs: length of the top-down warm-up (2 epochs).
        warmup_iters: the same in iterations; overrides ``warmup_epochs``
            (needed for iteration-based loops).
        pretrained, data_preprocessor, test_cfg, init_cfg, **kwargs:
            :class:`CAMClassifier` arguments; ``test_cfg`` also takes
            ``maps`` and ``pad_to`` (``ICD_TEST_CFG``) and only the plain
            CAM mode.
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int,
                 in_channels: int,
                 feat_channels: int,
                 bu_scale: float = 10.0,
                 sign_momentum: float = 0.9,
                 td_threshold: float = 0.2,
                 warmup_epochs: float = 2.0,
                 warmup_iters: Optional[int] = None,
                 test_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        test_cfg = dict(test_cfg or {})
        icd_test = merge_options(
            {k: test_cfg.pop(k) for k in ICD_TEST_CFG if k in test_cfg},
            ICD_TEST_CFG, 'ICD test_cfg')
        super().__init__(backbone=backbone, num_classes=num_classes,
                         in_channels=in_channels, test_cfg=test_cfg,
                         **kwargs)
        if icd_test['maps'] not in MAP_KINDS:
            raise ConfigError(f"model.test_cfg.maps={icd_test['maps']!r}; "
                              f'use one of {MAP_KINDS}')
        if (self.test_cfg['cam_mode'] or {}).get('type') != 'PlainCAM':
            raise ConfigError('model.test_cfg.cam_mode: ICD makes its maps '
                              "itself; only dict(type='PlainCAM') applies")
        self.test_cfg.update(icd_test)
        # the CAM loss is the reference's MultiSigmoidLoss (sum over classes)
        del self.loss_cls
        self.head = nn.Conv2d(in_channels, num_classes, 1)  # fc8, with bias
        self.feat_bn = nn.BatchNorm2d(feat_channels, eps=1e-5, momentum=0.1)
        self.feat_bn.weight.requires_grad_(False)  # fix_gamma: γ = 1
        self.bu_weight = nn.Parameter(torch.empty(num_classes,
                                                  feat_channels))
        self.fc6_ft = nn.Conv2d(feat_channels, in_channels, 3, padding=1)
        self.fc7_ft = nn.Conv2d(in_channels, in_channels, 1)
        self.td_head = nn.Conv2d(feat_channels + 2 * in_channels,
                                 num_classes, 1, bias=False)  # conv_ft
        self.register_buffer('sign_state', torch.zeros(num_classes, 2))
        self.bu_scale = float(bu_scale)
        self.sign_momentum = float(sign_momentum)
        self.td_threshold = float(td_threshold)
        self.warmup_epochs = float(warmup_epochs)
        self.warmup_iters = warmup_iters
        self._init_new_layers()
        self._freeze()

    # ---------------------------------------------------------------- set-up
    def _init_new_layers(self) -> None:
        """The reference's init of the layers the ImageNet file lacks:
        weights N(0, 0.01), biases 0 (BN: γ = 1, β = 0)."""
        for layer in (self.head, self.td_head, self.fc6_ft, self.fc7_ft):
            nn.init.normal_(layer.weight, std=0.01)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        nn.init.normal_(self.bu_weight, std=0.01)
        nn.init.ones_(self.feat_bn.weight)
        nn.init.zeros_(self.feat_bn.bias)

    def init_weights(self) -> None:
        """Backbone init (+ ImageNet weights), then fc6_ft / fc7_ft start as
        copies of the backbone's fc6 / fc7 (reference)."""
        super().init_weights()
        self._init_new_layers()
        for own, src in (('fc6_ft', 'fc6'), ('fc7_ft', 'fc7')):
            source = getattr(self.backbone, src, None)
            target = getattr(self, own)
            if source is None or source.weight.shape != target.weight.shape:
                raise ValueError(
                    f'ICD copies backbone.{src} into {own}: the backbone '
                    f'needs a {src} of shape {tuple(target.weight.shape)} '
                    '(DeepLabVGG16 with matching in_channels / '
                    'feat_channels)')
            with torch.no_grad():
                target.weight.copy_(source.weight)
                target.bias.copy_(source.bias)

    # --------------------------------------------------------------- forward
    def features(self, inputs: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """(conv5_3, fc7) of the backbone."""
        conv5, fc7 = self.backbone(inputs)
        return conv5, fc7

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """The CAM branch's input (fc7)."""
        return self.features(inputs)[1]

    def td_logits(self, feat: torch.Tensor) -> torch.Tensor:
        """Top-down logits ``z`` (B×C×h×w) of the normalised features."""
        f1 = F.relu(self.fc6_ft(feat))
        f2 = F.relu(self.fc7_ft(f1))
        return self.td_head(torch.cat([feat, f1, f2], dim=1))

    def forward_td(self, inputs: torch.Tensor) -> torch.Tensor:
        """Top-down logits of a batch of images."""
        return self.td_logits(self.feat_bn(self.features(inputs)[0]))

    def _forward(self, inputs: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``mode='tensor'``: class logits (B×C), CAMs and top-down
        logits."""
        conv5, fc7 = self.features(inputs)
        cams = self.head(fc7)
        return self.pool(cams), cams, self.td_logits(self.feat_bn(conv5))

    # -------------------------------------------------------------- training
    @staticmethod
    def stack_superpixels(data_samples: list,
                          size: Tuple[int, int]) -> torch.Tensor:
        """(B, H, W) superpixel ids of a batch of fixed-size crops."""
        if any('gt_superpixels' not in ds for ds in data_samples):
            raise KeyError(
                'ICD training needs `gt_superpixels` in every data sample: '
                'add LoadSuperpixels and SuperpixelIds to the train '
                'pipeline (README: ICD)')
        maps = [ds.gt_superpixels.data[0] for ds in data_samples]
        for sp in maps:
            if tuple(sp.shape) != tuple(size):
                raise ValueError(
                    f'superpixel map {tuple(sp.shape)} != input {tuple(size)}'
                    ': ICD needs fixed-size crops (RandomCropPad) so the '
                    'maps match the padded batch')
        return torch.stack(maps)

    def warmup_weight(self) -> float:
        """ω of the top-down loss at the current iteration (MessageHub)."""
        hub = MessageHub.get_current_instance()
        step = int(hub.get_info('iter', 0) or 0)
        total = self.warmup_iters
        if total is None:
            max_iters = int(hub.get_info('max_iters', 0) or 0)
            max_epochs = int(hub.get_info('max_epochs', 0) or 0)
            if not max_iters or not max_epochs:
                return 1.0
            total = int(round(self.warmup_epochs * max_iters / max_epochs))
        return exp_warmup(step, int(total))

    @torch.no_grad()
    def update_signs(self, cams: torch.Tensor, scores: torch.Tensor,
                     labels: torch.Tensor) -> None:
        """Move the sign state with this batch (all-reduced under DDP)."""
        sums, counts = side_strength(cams.float(), scores.float(), labels)
        stats = torch.cat([sums, counts[:, None]], dim=1)
        all_reduce(stats, op='sum')
        self.sign_state.copy_(update_sign_state(
            self.sign_state, stats[:, :2], stats[:, 2], self.sign_momentum))

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        labels = self.stack_labels(data_samples).to(inputs.device).float()
        superpixels = self.stack_superpixels(
            data_samples, inputs.shape[-2:]).to(inputs.device)
        conv5, fc7 = self.features(inputs)
        cams = self.head(fc7)
        loss_cls = F.binary_cross_entropy_with_logits(
            self.pool(cams), labels, reduction='sum') / len(inputs)
        feat = self.feat_bn(conv5)
        loss_bu, scores = bottom_up_loss(feat, self.bu_weight, labels,
                                         self.bu_scale)
        with torch.no_grad():
            if self.training:
                self.update_signs(cams.detach(), scores, labels)
            corrected = scores * signs_from_state(
                self.sign_state)[None, :, None, None]
            membership = superpixel_membership(
                superpixels, scores.shape[-2:],
                int(superpixels.max()) + 1)
            refined = superpixel_refine(corrected.float(), membership,
                                        labels)
        omega = self.warmup_weight()
        loss_td = top_down_loss(self.td_logits(feat), refined, labels,
                                self.td_threshold, omega)
        return dict(loss_cls=loss_cls, loss_bu=loss_bu, loss_td=loss_td,
                    td_weight=torch.tensor(omega, device=inputs.device))

    # ------------------------------------------------------------- inference
    def predict_cams(self, inputs: torch.Tensor,
                     data_samples: Optional[list] = None) -> CAMResult:
        """TTA maps (``test_cfg.maps``: top-down logits or CAMs; ReLU,
        summed over scales and flips), the CAM branch's class logits of the
        scale-1 pass and the stride-``coarse_stride`` sum; with ``pad_to``
        the images are padded first and the maps cropped back."""
        cfg = self.test_cfg
        height, width = inputs.shape[-2:]
        padded = inputs
        if cfg['pad_to']:
            size = int(cfg['pad_to'])
            padded = F.pad(inputs, (0, max(width, size) - width, 0,
                                    max(height, size) - height), value=0.0)

        def forward(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
            conv5, fc7 = self.features(x)
            cams = self.head(fc7)
            if cfg['maps'] == 'cam':
                return cams, cams
            return self.td_logits(self.feat_bn(conv5)), cams

        maps, logits, coarse = tta_maps(self, forward, padded)
        maps = maps[..., :height, :width]
        if coarse is not None:
            ch, cw = strided_size((height, width), cfg['coarse_stride'])
            coarse = coarse[..., :ch, :cw]
        return maps, logits, coarse
