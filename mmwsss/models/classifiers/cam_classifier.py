"""CAM classifier: backbone → 1×1 conv (no bias) → GAP, trained with a
multi-label loss; its 1×1-conv feature maps are the class activation maps."""
import copy
import re
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch.nn.modules.batchnorm import _BatchNorm

from mmwsss.models.cam_modes import (DEFAULT_CAM_MODE, CAMMode,
                                     CAMResult, build_cam_mode)
from mmwsss.models.utils import build_resize, check_align, strided_size
from mmwsss.models.utils.checkpoint import PretrainedBackboneMixin
from mmwsss.models.utils.modes import ModeDispatchMixin
from mmwsss.registry import MODELS
from mmwsss.utils.cam_utils import normalize_cam
from mmwsss.utils.options import merge_options

DEFAULT_TEST_CFG = dict(
    scales=(1.0, 0.5, 1.5, 2.0),  # TTA scales of the reference
    flip=True,
    stride=16,  # output stride of the backbone features
    align='center',  # where CAM cells land on the pixels (ALIGNMENTS):
    # the reference's full-resolution CAMs
    # how each TTA scale is made: 'pil' (the reference: PIL bicubic on the
    # 8-bit image) or 'tensor' (bicubic on the normalised float tensor)
    resize='pil',
    # also keep the CAMs on the stride-4 grid, resampled from each scale's
    # maps (the reference's `cam`, the random walk's input); None: skip
    coarse_stride=4,
    coarse_align='resize',  # the same on that grid: the reference's `cam`
    keys='gt',  # 'gt': CAMs for the labelled classes; 'pred': predicted
    pred_threshold=0.5,  # sigmoid score for 'pred' (and unlabelled data)
    # how the maps are made: a mmwsss.models.cam_modes.CAM_MODES config,
    # the plain TTA CAM or dict(type='AdvCAM', iterations=27, ...)
    cam_mode=DEFAULT_CAM_MODE,
)


@MODELS.register_module()
class CAMClassifier(PretrainedBackboneMixin, ModeDispatchMixin,
                    BaseModel):
    """Multi-label classifier whose head outputs class activation maps.

    ``logits = GAP(conv1x1(features))``; ``conv1x1(features)`` are the raw
    CAMs (B×C×h×w at the backbone's output stride, 16 with dilation).

    Args:
        backbone: backbone config (mmpretrain with ``_scope_='mmpretrain'``,
            mmseg, or timm through mmseg's ``TIMMBackbone``); it must return
            a tuple of feature maps.
        num_classes: number of foreground classes C (no background).
        in_channels: channels of the used feature map.
        loss: classification loss config.
        data_preprocessor: e.g. ``SegDataPreProcessor`` (mean/std, BGR→RGB).
        pretrained: local path of ImageNet weights for the backbone, loaded
            in ``init_weights`` (ignored when resuming / loading a checkpoint).
        feature_index: which backbone output feeds the head.
        freeze_bn: keep every BatchNorm in eval mode with frozen affine
            parameters (the reference's ``mode='fix'``).
        frozen_modules: regular expressions of sub-module names to freeze
            (eval mode, no gradient), e.g. ``('backbone.conv1', 'backbone.bn1')``
            for a frozen stem.
        test_cfg: TTA settings, see ``DEFAULT_TEST_CFG``; ``cam_mode``
            selects how the maps are made (:mod:`mmwsss.models.cam_modes`).
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int,
                 in_channels: int,
                 loss: dict = dict(type='MultiLabelSoftMarginLoss'),
                 data_preprocessor: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 feature_index: int = -1,
                 freeze_bn: bool = False,
                 frozen_modules: Sequence[str] = (),
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        super().__init__(
            backbone=backbone,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.head = nn.Conv2d(in_channels, num_classes, 1, bias=False)
        nn.init.kaiming_normal_(self.head.weight)
        self.loss_cls = MODELS.build(loss)
        self.num_classes = num_classes
        self.feature_index = feature_index
        self.freeze_bn = freeze_bn
        self.frozen_modules = tuple(frozen_modules)
        self.test_cfg = merge_options(test_cfg, DEFAULT_TEST_CFG,
                                      'CAMClassifier test_cfg')
        for key in ('align', 'coarse_align'):
            check_align(self.test_cfg[key], f'test_cfg.{key}')
        # own copy: editing it must not change DEFAULT_CAM_MODE
        self.test_cfg['cam_mode'] = copy.deepcopy(self.test_cfg['cam_mode'])
        self._cam_mode: Tuple[dict, CAMMode] = self._build_cam_mode()
        # (mean, std) for the 'pil' TTA resize when the classifier is part
        # of a larger model that owns the data preprocessor (P-NOC)
        self._tta_norm: Optional[Tuple[list, list]] = None
        self._freeze()

    # ---------------------------------------------------------------- set-up
    def _frozen(self) -> List[nn.Module]:
        """Modules kept in eval mode without gradients."""
        mods = []
        for name, mod in self.named_modules():
            if self.freeze_bn and isinstance(mod, _BatchNorm):
                mods.append(mod)
            elif name and any(re.fullmatch(p, name)
                              for p in self.frozen_modules):
                mods.append(mod)
        return mods

    def _freeze(self) -> None:
        if self.frozen_modules:
            names = [n for n, _ in self.named_modules()]
            for pattern in self.frozen_modules:
                if not any(re.fullmatch(pattern, n) for n in names):
                    raise KeyError(
                        f'frozen_modules pattern "{pattern}" matches no '
                        f'sub-module; e.g. {names[1:6]}')
        for mod in self._frozen():
            for param in mod.parameters():
                param.requires_grad_(False)

    def train(self, mode: bool = True) -> 'CAMClassifier':
        super().train(mode)
        if mode:
            for mod in self._frozen():
                mod.eval()
        return self

    # --------------------------------------------------------------- forward
    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(inputs)
        if isinstance(feats, (list, tuple)):
            feats = feats[self.feature_index]
        return feats

    def forward_cam(self, inputs: torch.Tensor) -> torch.Tensor:
        """Raw CAM logits (B×C×h×w)."""
        return self.head(self.extract_feat(inputs))

    @staticmethod
    def pool(cams: torch.Tensor) -> torch.Tensor:
        """Global average pooling of CAM logits → class logits (B×C)."""
        return cams.mean(dim=(-2, -1))

    def _forward(self, inputs: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``mode='tensor'``: class logits (B×C) and raw CAMs."""
        cams = self.forward_cam(inputs)
        return self.pool(cams), cams

    @staticmethod
    def stack_labels(data_samples: list) -> torch.Tensor:
        """(B, C) multi-hot labels of a batch."""
        if not data_samples or any('gt_label' not in ds
                                   for ds in data_samples):
            raise KeyError('training needs `gt_label` in every data sample; '
                           'use PackWSSSInputs in the train pipeline')
        return torch.stack([ds.gt_label for ds in data_samples])

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict:
        labels = self.stack_labels(data_samples).to(inputs.device)
        logits = self.pool(self.forward_cam(inputs))
        return dict(loss_cls=self.loss_cls(logits, labels))

    # ------------------------------------------------------------- inference
    def class_keys(self, data_sample: Optional[BaseDataElement],
                   logits: Optional[torch.Tensor]) -> torch.Tensor:
        """Foreground class indices (0-based) whose CAMs are kept: the
        labelled ones (``keys='gt'``), else those scoring above
        ``pred_threshold``."""
        use_gt = (self.test_cfg['keys'] == 'gt' and data_sample is not None
                  and 'gt_label' in data_sample)
        if use_gt:
            return torch.nonzero(data_sample.gt_label > 0.5).flatten()
        scores = logits.sigmoid()
        return torch.nonzero(scores > self.test_cfg['pred_threshold']).flatten()

    def set_tta_normalisation(self, mean: Sequence[float],
                              std: Sequence[float]) -> None:
        """Normalisation the ``'pil'`` TTA resize undoes, for a classifier
        whose inputs are normalised by a wrapping model (P-NOC)."""
        self._tta_norm = ([float(v) for v in mean], [float(v) for v in std])

    def tta_resize(self):
        """The TTA resize of ``test_cfg.resize`` (the PIL one un-normalises
        with the data preprocessor's mean/std)."""
        mode = self.test_cfg['resize']
        pre = self.data_preprocessor
        mean, std = getattr(pre, 'mean', None), getattr(pre, 'std', None)
        if (mean is None or std is None) and self._tta_norm is not None:
            mean, std = self._tta_norm
        if mode == 'pil' and (mean is None or std is None):
            raise ValueError(
                "test_cfg.resize='pil' needs a data_preprocessor with mean "
                "and std (it resizes the 8-bit image); set "
                "test_cfg.resize='tensor' otherwise")
        return build_resize(mode, mean, std)

    def _build_cam_mode(self) -> Tuple[dict, CAMMode]:
        """(config, instance) of ``test_cfg.cam_mode``."""
        cfg = self.test_cfg['cam_mode']
        return copy.deepcopy(dict(cfg or {})), build_cam_mode(cfg)

    @property
    def cam_mode(self) -> CAMMode:
        """The CAM mode of ``test_cfg.cam_mode``, rebuilt when that entry
        was changed after construction."""
        if dict(self.test_cfg['cam_mode'] or {}) != self._cam_mode[0]:
            self._cam_mode = self._build_cam_mode()
        return self._cam_mode[1]

    def predict_cams(self, inputs: torch.Tensor,
                     data_samples: Optional[list] = None) -> CAMResult:
        """TTA CAMs (B×C×H×W summed non-negative maps, not normalised), the
        class logits (B×C) of the unflipped scale-1 pass and, with
        ``test_cfg.coarse_stride`` s, the summed maps on the stride-s grid
        (B×C×⌈H/s⌉×⌈W/s⌉; else None), made by ``test_cfg.cam_mode`` (the
        plain TTA CAM by default; AdvCAM fills the kept classes only)."""
        return self.cam_mode(self, inputs, data_samples)

    def predict(self, inputs: torch.Tensor, data_samples: list) -> list:
        """Attach ``cams`` (K×H×W in [0, 1]), ``cam_keys`` (segmentation ids,
        K), ``pred_score`` (C sigmoid scores) and, with
        ``test_cfg.coarse_stride`` s, ``cams_coarse`` (K×⌈H/s⌉×⌈W/s⌉ in
        [0, 1], each map normalised by its own maximum, as the reference's
        stride-4 ``cam``) and ``coarse_stride`` to each data sample."""
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(len(inputs))]
        cams, logits, coarse = self.predict_cams(inputs, data_samples)
        for i, ds in enumerate(data_samples):
            h, w = ds.metainfo.get('img_shape', inputs.shape[-2:])[:2]
            keys = self.class_keys(ds, logits[i])
            cam = normalize_cam(cams[i, keys, :h, :w])
            ds.set_data(
                dict(
                    cams=cam,
                    cam_keys=keys + 1,
                    pred_score=logits[i].sigmoid()))
            if coarse is not None:
                stride = self.test_cfg['coarse_stride']
                ch, cw = strided_size((h, w), stride)
                ds.set_data(dict(
                    cams_coarse=normalize_cam(coarse[i, keys, :ch, :cw])))
                ds.set_metainfo(dict(coarse_stride=stride))
        return data_samples
