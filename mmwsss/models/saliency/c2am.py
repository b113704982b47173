"""C²AM and C²AM-H: class-agnostic activation maps (saliency) learnt by
contrasting foreground and background embeddings across a batch
(README: C²AM).

A disentangler (3×3 conv + BN to one channel) on the concatenated layer4 +
layer3 features gives a logit map ``z`` (N×1×h×w). With ``P = σ(z)`` the
image is pooled into a foreground and a background embedding::

    fg = Σ_hw P·X / (h·w),   bg = Σ_hw (1 − P)·X / (h·w)          (N×C)
    L  = SimMax(fg) + SimMin(bg, fg) + SimMax(bg)

C²AM-H (``hint=dict(...)``) adds a hint loss: binary cross-entropy with a
label-smoothed target 1 on the logits of the pixels where the max-over-
classes CAM of the image (``gt_cam_hint``, loaded by
:class:`~mmwsss.datasets.transforms.LoadCAMHint`) is ≥ δ_fg.

Inference sums ``ReLU(z)`` over the TTA scales and flips
(:func:`~mmwsss.models.utils.multi_scale_flip_forward`) and max-normalises
it (:func:`~mmwsss.utils.cam_utils.normalize_cam`), as the reference.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmwsss.models.utils import (check_align, label_smoothing,
                                 multi_scale_flip_forward)
from mmwsss.models.utils.checkpoint import PretrainedBackboneMixin
from mmwsss.models.utils.modes import ModeDispatchMixin
from mmwsss.registry import MODELS
from mmwsss.utils.cam_utils import normalize_cam
from mmwsss.utils.options import merge_options
from .polarity import border_mean, is_inverted, orient

DEFAULT_TEST_CFG = dict(
    scales=(1.0, 0.5, 1.5, 2.0),  # TTA scales of the reference
    flip=True,
    stride=16,  # output stride of the features
    align='center',  # where map cells land on the pixels (ALIGNMENTS)
    # 'relu': sum of ReLU(z) over the passes, max-normalised (reference);
    # 'sigmoid': mean of σ(z) over the passes (the reference's unused
    # --activation sigmoid branch): calibrated, not max-normalised
    activation='relu',
    # which partition is the foreground: 'auto' (border rule, tracked in
    # training), 'keep' or 'flip'; None: 'keep' with hints, else 'auto'
    polarity=None,
)
DEFAULT_HINT = dict(
    fg_threshold=0.4,  # δ_fg (VOC 0.4, COCO 0.3)
    loss_weight=1.0,  # λ_h
    label_smoothing=0.1,  # target 1 → 0.95
    reduction='mean',  # 'mean' over hinted pixels (code) or 'sum' (paper)
    inclusive=True,  # hint ≥ δ_fg (code) or > δ_fg (paper)
    resize_mode='bicubic',  # hint → logit-map size (reference: bicubic)
    key='gt_cam_hint',  # data-sample field holding the hint map
)
POLARITIES = ('auto', 'keep', 'flip')
ACTIVATIONS = ('relu', 'sigmoid')


class Disentangler(nn.Module):
    """3×3 conv (no bias) + BN to one channel; pools the features into
    foreground / background embeddings with the sigmoid of that map."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 1, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(1)
        nn.init.kaiming_normal_(self.conv.weight)

    def forward(self, feats: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(fg N×C, bg N×C, logits N×1×h×w)."""
        logits = self.bn(self.conv(feats))
        n, c, h, w = feats.shape
        prob = torch.sigmoid(logits).reshape(n, 1, h * w)
        x = feats.reshape(n, c, h * w).transpose(1, 2)  # N×hw×C
        fg = (prob @ x).squeeze(1) / (h * w)
        bg = ((1.0 - prob) @ x).squeeze(1) / (h * w)
        return fg, bg, logits


def gather_batch(x: torch.Tensor) -> torch.Tensor:
    """Concatenate ``x`` over all ranks, keeping gradients (identity when
    not distributed): the contrastive terms then see the whole batch, as
    the reference's DataParallel does."""
    if not (dist.is_available() and dist.is_initialized()
            and dist.get_world_size() > 1):
        return x
    from torch.distributed.nn.functional import all_gather
    return torch.cat(all_gather(x), dim=0)


@MODELS.register_module()
class C2AM(PretrainedBackboneMixin, ModeDispatchMixin,
           BaseModel):
    """C²AM (``hint=None``) or C²AM-H (``hint=dict(...)``) saliency model.

    Args:
        backbone: backbone config returning a tuple of feature maps.
        in_channels: channels of the concatenated features (RS269:
            2048 + 1024 = 3072).
        feature_indices: backbone outputs to concatenate, in order
            (default layer4 then layer3, as the reference); they must share
            one spatial size.
        loss_pos: the positive (SimMax) loss, used for the foregrounds and
            for the backgrounds; its ``average`` switches between the
            code's and the paper's averaging.
        loss_neg: the negative (SimMin) loss between backgrounds and
            foregrounds.
        hint: None (plain C²AM) or the hint-loss settings, merged over
            ``DEFAULT_HINT``.
        gather_batch: under distributed training, compute the contrastive
            terms over the batch of all ranks (gradients flow back to each
            rank), as the reference's DataParallel did over its full batch.
        polarity_momentum: momentum of the running border mean of σ(z)
            used by ``test_cfg.polarity='auto'``.
        data_preprocessor: e.g. ``SegDataPreProcessor``.
        pretrained: local weights for the backbone: an ImageNet file, or any
            mmwsss checkpoint with the same backbone (its ``backbone.``
            tensors are used, e.g. a vanilla CAM run).
        test_cfg: TTA and polarity, see ``DEFAULT_TEST_CFG``.
    """

    def __init__(self,
                 backbone: dict,
                 in_channels: int,
                 feature_indices: Sequence[int] = (-1, -2),
                 loss_pos: dict = dict(type='SimMaxLoss', alpha=0.25),
                 loss_neg: dict = dict(type='SimMinLoss'),
                 hint: Optional[dict] = None,
                 gather_batch: bool = True,
                 polarity_momentum: float = 0.9,
                 data_preprocessor: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.head = Disentangler(in_channels)
        self.in_channels = in_channels
        self.feature_indices = tuple(feature_indices)
        if not self.feature_indices:
            raise ValueError('C2AM needs at least one feature index')
        self.loss_pos = MODELS.build(loss_pos)
        self.loss_neg = MODELS.build(loss_neg)
        if hint is not None:
            hint = merge_options(hint, DEFAULT_HINT, 'C2AM hint')
            if hint['reduction'] not in ('mean', 'sum'):
                raise ValueError('hint.reduction must be "mean" or "sum", '
                                 f'got {hint["reduction"]!r}')
        self.hint = hint
        self.gather_batch = gather_batch
        self.polarity_momentum = float(polarity_momentum)
        self.test_cfg = merge_options(test_cfg, DEFAULT_TEST_CFG,
                                      'C2AM test_cfg')
        check_align(self.test_cfg['align'], 'test_cfg.align')
        if self.test_cfg['polarity'] is None:
            self.test_cfg['polarity'] = 'keep' if hint else 'auto'
        if self.test_cfg['polarity'] not in POLARITIES:
            raise ValueError(f'test_cfg.polarity must be one of {POLARITIES}'
                             f', got {self.test_cfg["polarity"]!r}')
        if self.test_cfg['activation'] not in ACTIVATIONS:
            raise ValueError(f'test_cfg.activation must be one of '
                             f'{ACTIVATIONS}, got '
                             f'{self.test_cfg["activation"]!r}')
        # running border mean of σ(z) over training batches; -1 = unknown
        self.register_buffer('border_prob', torch.tensor(-1.0))

    # --------------------------------------------------------------- forward
    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """The concatenated backbone features (N×in_channels×h×w)."""
        outs = self.backbone(inputs)
        if not isinstance(outs, (list, tuple)):
            outs = (outs, )
        try:
            feats = [outs[i] for i in self.feature_indices]
        except IndexError:
            raise IndexError(
                f'feature_indices {self.feature_indices} do not fit the '
                f'{len(outs)} backbone outputs; set the backbone\'s '
                'out_indices to include layer3 and layer4') from None
        sizes = {tuple(f.shape[-2:]) for f in feats}
        if len(sizes) != 1:
            raise ValueError(f'C2AM features differ in size {sorted(sizes)}; '
                             'use a backbone whose last stage is dilated '
                             '(output stride 16)')
        feats = torch.cat(feats, dim=1)
        if feats.shape[1] != self.in_channels:
            raise ValueError(f'the concatenated features have '
                             f'{feats.shape[1]} channels, model.in_channels '
                             f'is {self.in_channels}')
        return feats

    def _forward(self, inputs: torch.Tensor) -> tuple:
        """``mode='tensor'``: the head's (fg, bg, logits) outputs."""
        return self.head(self.extract_feat(inputs))

    # -------------------------------------------------------------- training
    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        fg, bg, logits = self.head(self.extract_feat(inputs))
        self._track_polarity(logits)
        if self.gather_batch:
            fg, bg = gather_batch(fg), gather_batch(bg)
        losses = dict(
            loss_fg=self.loss_pos(fg),
            loss_neg=self.loss_neg(bg, fg),
            loss_bg=self.loss_pos(bg))
        if self.hint is not None:
            hints = self.stack_hints(data_samples, inputs.shape[-2:])
            losses['loss_hint'] = self.hint_loss(logits, hints.to(logits))
        return losses

    def stack_hints(self, data_samples: list,
                    size: Tuple[int, int]) -> torch.Tensor:
        """(N, 1, H, W) hint maps of a batch, zero-padded (bottom/right) to
        the batch's input size as the data preprocessor pads images."""
        key = self.hint['key']
        if not data_samples or any(key not in ds for ds in data_samples):
            raise KeyError(
                f'C²AM-H needs `{key}` in every data sample: add '
                "dict(type='LoadCAMHint', cam_dir=...) after "
                'LoadImageFromFile in the train pipeline (and PackWSSSInputs)')
        maps = []
        for ds in data_samples:
            hint = ds.get(key)
            hint = getattr(hint, 'data', hint)
            if hint.ndim == 2:
                hint = hint[None]
            h, w = hint.shape[-2:]
            if h > size[0] or w > size[1]:
                raise ValueError(f'hint map {tuple(hint.shape)} is larger '
                                 f'than the input {tuple(size)}')
            maps.append(F.pad(hint, (0, size[1] - w, 0, size[0] - h)))
        return torch.stack(maps)

    def hint_mask(self, hints: torch.Tensor,
                  size: Tuple[int, int]) -> torch.Tensor:
        """Pixels of the logit map (N×1×h×w, bool) hinted as foreground:
        the hint resized to ``size`` (reference: bicubic) ≥ δ_fg."""
        cfg = self.hint
        mode = cfg['resize_mode']
        kwargs = {} if mode in ('nearest', 'area') else dict(
            align_corners=False)
        hints = F.interpolate(hints, size=size, mode=mode, **kwargs)
        thr = cfg['fg_threshold']
        return hints >= thr if cfg['inclusive'] else hints > thr

    def hint_loss(self, logits: torch.Tensor,
                  hints: torch.Tensor) -> torch.Tensor:
        """λ_h · BCE(z, ls(1)) over the hinted pixels of the batch; zero
        (not NaN, as the reference) when no pixel is hinted."""
        cfg = self.hint
        mask = self.hint_mask(hints, logits.shape[-2:])
        selected = logits[mask]
        if selected.numel() == 0:
            return logits.sum() * 0.0
        target = label_smoothing(
            torch.ones_like(selected), cfg['label_smoothing'])
        loss = F.binary_cross_entropy_with_logits(
            selected, target, reduction=cfg['reduction'])
        return cfg['loss_weight'] * loss

    @torch.no_grad()
    def _track_polarity(self, logits: torch.Tensor) -> None:
        """Running border mean of σ(z) (for ``polarity='auto'``)."""
        value = border_mean(torch.sigmoid(logits.detach().float()))
        if self.border_prob < 0:
            self.border_prob.fill_(value)
        else:
            m = self.polarity_momentum
            self.border_prob.mul_(m).add_((1.0 - m) * value)

    # ------------------------------------------------------------- inference
    def inverted(self) -> bool:
        """Whether the learnt map marks the background (``test_cfg.
        polarity``: 'auto' applies the border rule to the running border
        mean of training; an untrained model counts as not inverted)."""
        polarity = self.test_cfg['polarity']
        if polarity == 'auto':
            border = float(self.border_prob)
            return border >= 0 and is_inverted(border)
        return polarity == 'flip'

    def saliency_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logit maps (N×1×h×w) with the foreground positive."""
        _, _, logits = self.head(self.extract_feat(inputs))
        return orient(logits, self.inverted())

    def predict_saliency(self, inputs: torch.Tensor) -> torch.Tensor:
        """TTA saliency (N×1×H×W): summed ReLU logits (not normalised), or
        the mean sigmoid with ``activation='sigmoid'``."""
        cfg = self.test_cfg
        sigmoid = cfg['activation'] == 'sigmoid'
        maps = multi_scale_flip_forward(
            self.saliency_logits, inputs, scales=cfg['scales'],
            flip=cfg['flip'], stride=cfg['stride'], align=cfg['align'],
            activation=torch.sigmoid if sigmoid else F.relu)
        if sigmoid:
            maps = maps / (len(cfg['scales']) * (2 if cfg['flip'] else 1))
        return maps

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[list]) -> List[BaseDataElement]:
        """Attach ``saliency`` (1×H×W in [0, 1]) to every data sample, and
        the same map as ``cams`` with ``cam_keys = [1]`` (one class,
        'salient'), so CAM tools and metrics take it unchanged."""
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(len(inputs))]
        maps = self.predict_saliency(inputs)
        keys = torch.ones(1, dtype=torch.long, device=inputs.device)
        for i, ds in enumerate(data_samples):
            h, w = ds.metainfo.get('img_shape', inputs.shape[-2:])[:2]
            sal = maps[i, :, :h, :w]
            if self.test_cfg['activation'] == 'relu':
                sal = normalize_cam(sal)
            ds.set_data(dict(saliency=sal, cams=sal, cam_keys=keys))
        return data_samples
