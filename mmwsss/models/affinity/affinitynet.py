"""AffinityNet: the IRN-style class-boundary network of the random-walk stage
(README: random walk; *not* PSA's AffinityNet).

A frozen ResNet-style backbone gives five stage features (stem after the
max-pool, layer1..layer4); each goes through a 1×1 conv to 32 channels,
GroupNorm, an upsampling to stride 4 and a ReLU; the concatenation is mapped
by a 1×1 conv to one boundary logit per stride-4 pixel. Affinities between
pixels within ``radius`` are ``1 − max(σ(boundary))`` along the path joining
them (:func:`edge_to_affinity`) and are trained with :class:`AffinityLoss`
against pairs of an affinity-label map (:func:`pair_labels`). At test time
``predict`` walks an image's stored CAMs over its boundary map
(:func:`random_walk`; README: random walk), so the walk runs under
mmengine's Runner
like CAM inference: the test pipeline loads the CAMs (``LoadCAMs``), the
``CAMWriter`` metric saves the walked maps.

Differences from the reference: the reference's HEAD crashes (its backbone
returns 4 stages, the network unpacks 5) and hard-codes the stem width; here
the stages come from :func:`resnet_stages` and every channel count and
stride is read from the backbone. Path indices are not buffers (the
reference stores them in the state dict, tied to one input size): they are
built once per map size with :func:`get_path_index`.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement, PixelData

from mmwsss.models.utils.checkpoint import PretrainedBackboneMixin
from mmwsss.models.utils.modes import ModeDispatchMixin
from mmwsss.registry import MODELS
from mmwsss.utils.errors import ConfigError, DataError
from mmwsss.utils.options import merge_options
from .backbone_stages import resnet_stages
from .path_index import edge_to_affinity, get_path_index, pair_labels
from .random_walk import (RW_METHODS, random_walk, rw_to_full_resolution,
                          stride4_size)

#: Inference settings (``model.test_cfg``); the walk's are the reference's
#: (README: random walk), the only place they are defined.
DEFAULT_TEST_CFG = dict(
    # boundary map (predict_edges)
    image_size=512,  # inputs smaller than this are zero-padded (right/bottom)
    flip=True,  # average the boundary logits of the image and its flip
    # random walk of the stored CAMs (predict)
    beta=10.0,  # affinity exponent
    exp_times=8,  # walk length 2^exp_times
    radius=5,  # search radius of the walk in stride-4 pixels (model.radius
    # is the training affinities' radius)
    method='sparse',  # or 'dense', the reference's N×N squaring
    normalize='global',  # 'global': one max over all classes; 'class'
    damp_edges=True,  # start from CAMs·(1 − edge), or the CAMs (False)
    cam_power=1.0,  # walk CAMs**cam_power (IRN/W-OoD: 1.5, sharpens peaks)
)
#: Walked maps are saved as CAM files, which hold values in [0, 1].
SAVED_NORMALIZE = ('global', 'class')
#: Data-sample fields of the stored CAMs: ``LoadCAMs(reduce='keys',
#: coarse_stride=4)`` (default key) + ``PackWSSSInputs``.
CAM_FIELD = 'gt_cams'
CAM_KEYS_FIELD = 'gt_cams_keys'
CAM_COARSE_FIELD = 'gt_cams_coarse'
#: Input side of the dry run that reads the stage channels and strides.
PROBE_SIZE = 64


def edge_branch(in_channels: int, channels: int, groups: int,
                scale: int) -> nn.Sequential:
    """Conv1×1 (no bias) → GroupNorm → [bilinear ×scale] → ReLU."""
    layers = [
        nn.Conv2d(in_channels, channels, 1, bias=False),
        nn.GroupNorm(groups, channels)
    ]
    if scale > 1:
        layers.append(
            nn.Upsample(
                scale_factor=scale, mode='bilinear', align_corners=False))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def check_walk_cfg(cfg: dict) -> None:
    """Refuse walk settings :func:`random_walk` or the CAM files would
    refuse later, naming the ``model.test_cfg`` key."""
    if cfg['method'] not in RW_METHODS:
        raise ConfigError(f'model.test_cfg.method must be one of '
                          f'{RW_METHODS}, got {cfg["method"]!r}')
    if cfg['normalize'] not in SAVED_NORMALIZE:
        raise ConfigError(
            f'model.test_cfg.normalize must be one of {SAVED_NORMALIZE} '
            f'(saved maps must lie in [0, 1]), got {cfg["normalize"]!r}')
    if not cfg['cam_power'] > 0:
        raise ConfigError('model.test_cfg.cam_power must be > 0, got '
                          f'{cfg["cam_power"]!r}')
    if not cfg['beta'] > 0 or int(cfg['exp_times']) < 0 \
            or int(cfg['radius']) < 2:
        raise ConfigError(
            'model.test_cfg needs beta > 0, exp_times >= 0 and radius >= 2, '
            f'got beta={cfg["beta"]}, exp_times={cfg["exp_times"]}, '
            f'radius={cfg["radius"]}')


def downsample_labels(labels: torch.Tensor,
                      size: Tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour resize of ``(B, 1, H, W)`` label maps to ``size``,
    sampling pixel centres as PIL's ``NEAREST`` (the reference's
    ``ResizeMask``): 512 → 128 keeps rows/columns 2, 6, 10, ..."""
    out = F.interpolate(labels.float(), size=size, mode='nearest-exact')
    return out[:, 0].long()


@MODELS.register_module()
class AffinityNet(PretrainedBackboneMixin, ModeDispatchMixin,
                  BaseModel):
    """Class-boundary network trained on affinity labels.

    Args:
        backbone: backbone config; any ResNet-style backbone whose stem ends
            with a ``maxpool`` module followed by ``layer1``..``layer4``
            (mmpretrain/mmseg ``ResNet``/``ResNeSt``, mmseg ``TIMMBackbone``
            with a timm ``resnet*``/``resnest*``). Frozen by default (the
            reference): eval mode, no gradients, features detached.
        num_classes: foreground classes C; label values must lie in 0..C or
            be ``ignore_index`` (catches a label folder of another data set).
        radius: search radius of the training affinities, in stride-4
            pixels (reference 10 on 128×128 maps).
        channels: channels of each edge branch (reference 32).
        gn_groups: GroupNorm groups of each branch (reference 4).
        loss: affinity loss config.
        ignore_index: unlabelled pixels of the affinity labels.
        pretrained: local weights file for the backbone, loaded in
            ``init_weights``: ImageNet weights (the reference), or, with
            ``pretrained_prefix``, any mmwsss checkpoint. A CAMClassifier
            checkpoint with an mmpretrain/mmseg backbone also loads without
            a prefix (its ``backbone.`` keys are recognised).
        pretrained_prefix: key prefix of the backbone tensors inside
            ``pretrained`` (``'backbone.'`` for a CAMClassifier checkpoint,
            ``'generator.backbone.'`` for P-NOC); they are stripped and must
            cover the whole backbone. None: an ImageNet-style file. Both
            are read by :func:`~mmwsss.models.utils.load_backbone_weights`.
        frozen_backbone: True (the reference): only the edge layers train,
            on generic (ImageNet) features. False trains the backbone with
            the edge layers; for backbones without generic pretraining,
            whose frozen features only know the classes' discriminative
            parts (README, "Refinement on the synthetic sets").
        data_preprocessor: e.g. ``SegDataPreProcessor``.
        test_cfg: ``image_size`` and ``flip`` of :meth:`predict_edges`, the
            walk settings of :meth:`predict` (``DEFAULT_TEST_CFG``).
    """

    def __init__(self,
                 backbone: dict,
                 num_classes: int,
                 radius: int = 10,
                 channels: int = 32,
                 gn_groups: int = 4,
                 loss: dict = dict(type='AffinityLoss'),
                 ignore_index: int = 255,
                 pretrained: Optional[str] = None,
                 pretrained_prefix: Optional[str] = None,
                 frozen_backbone: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if num_classes < 1:
            raise ValueError(f'num_classes must be >= 1, got {num_classes}')
        if radius < 2:
            raise ValueError(f'radius must be >= 2, got {radius}')
        test_cfg = merge_options(test_cfg, DEFAULT_TEST_CFG,
                                 'AffinityNet test_cfg')
        check_walk_cfg(test_cfg)
        super().__init__(
            backbone=backbone,
            pretrained=pretrained,
            pretrained_prefix=pretrained_prefix,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.test_cfg = test_cfg
        self.num_classes = num_classes
        self.radius = int(radius)
        self.ignore_index = ignore_index
        self.frozen_backbone = bool(frozen_backbone)
        if self.frozen_backbone:
            self.backbone.requires_grad_(False)
            self.backbone.eval()
        in_channels, scales = self._probe_stages()
        self.stage_channels = in_channels
        self.stage_scales = scales
        self.edge_branches = nn.ModuleList(
            edge_branch(c, channels, gn_groups, s)
            for c, s in zip(in_channels, scales))
        self.edge_classifier = nn.Conv2d(
            channels * len(in_channels), 1, 1, bias=True)
        self.loss_aff = MODELS.build(loss)

    # ---------------------------------------------------------------- set-up
    def _probe_stages(self) -> Tuple[List[int], List[int]]:
        """Channels and upsampling factors (stride / stem stride) of the 5
        stages, from one forward pass of a small zero image."""
        with torch.no_grad():
            feats = resnet_stages(self.backbone,
                                  torch.zeros(1, 3, PROBE_SIZE, PROBE_SIZE))
        channels = [int(f.shape[1]) for f in feats]
        base = feats[0].shape[-1]
        scales = []
        for name, f in zip(('stem', 'layer1', 'layer2', 'layer3', 'layer4'),
                           feats):
            ratio = base / f.shape[-1]
            if ratio < 1 or abs(ratio - round(ratio)) > 1e-6:
                raise ValueError(
                    f'{name} of {type(self.backbone).__name__} has width '
                    f'{f.shape[-1]} for a stem of {base}: stages must be '
                    'the stem size divided by an integer')
            scales.append(int(round(ratio)))
        return channels, scales

    def train(self, mode: bool = True) -> 'AffinityNet':
        """Set the layers' mode; a frozen backbone always stays in eval."""
        super().train(mode)
        if self.frozen_backbone:
            self.backbone.eval()
        return self

    # --------------------------------------------------------------- forward
    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The 5 stage features (detached when the backbone is frozen)."""
        if not self.frozen_backbone:
            return tuple(resnet_stages(self.backbone, inputs))
        with torch.no_grad():
            feats = resnet_stages(self.backbone, inputs)
        return tuple(f.detach() for f in feats)

    def forward_edges(self, inputs: torch.Tensor) -> torch.Tensor:
        """Boundary logits ``(B, 1, h, w)`` at the stem's stride (4)."""
        feats = self.extract_feat(inputs)
        height, width = feats[0].shape[-2:]
        edges = [
            branch(f)[..., :height, :width]
            for branch, f in zip(self.edge_branches, feats)
        ]
        return self.edge_classifier(torch.cat(edges, dim=1))

    def _forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``mode='tensor'``: the boundary logits."""
        return self.forward_edges(inputs)

    # ------------------------------------------------------------------ loss
    def stride4_labels(self, data_samples: Sequence[BaseDataElement],
                       size: Tuple[int, int]) -> torch.Tensor:
        """``(B, h, w)`` int64 affinity labels resized (nearest) to the
        boundary map, checked against ``num_classes``."""
        if not data_samples or any('gt_sem_seg' not in ds
                                   for ds in data_samples):
            names = [
                ds.metainfo.get('img_path', '?') for ds in data_samples or []
                if 'gt_sem_seg' not in ds
            ]
            raise KeyError(
                'AffinityNet training needs the affinity label of every '
                f'image (gt_sem_seg), missing for {names[:3]}; point '
                '`train_dataloader.dataset.data_prefix.seg_map_path` at the '
                'tools/make_affinity_labels.py output and load it with '
                '(Optional)LoadAnnotations')
        labels = torch.stack([ds.gt_sem_seg.data for ds in data_samples])
        labels = downsample_labels(labels, size)
        bad = (labels > self.num_classes) & (labels != self.ignore_index)
        if bool(bad.any()):
            raise ValueError(
                f'affinity label value {int(labels[bad][0])} is neither a '
                f'class index (0..{self.num_classes}) nor ignore_index '
                f'({self.ignore_index}); are the labels made for this data '
                'set?')
        return labels

    def loss(self, inputs: torch.Tensor,
             data_samples: Sequence[BaseDataElement]) -> dict:
        logits = self.forward_edges(inputs)
        size = tuple(logits.shape[-2:])
        labels = self.stride4_labels(data_samples, size).to(logits.device)
        path_index = get_path_index(self.radius, size)
        affinities = edge_to_affinity(torch.sigmoid(logits), path_index)
        src, dst = pair_labels(labels, path_index)
        return self.loss_aff(affinities, src, dst)

    # ------------------------------------------------------------- inference
    def predict_edges(self,
                      inputs: torch.Tensor,
                      image_size: Optional[int] = None) -> torch.Tensor:
        """Boundary probabilities ``(B, 1, ⌈H/4⌉, ⌈W/4⌉)`` (the reference's
        ``get_edge``; README: random walk).

        The image and its horizontal flip go through the network in one
        batch, each zero-padded right/bottom to at least ``image_size``
        (``test_cfg.image_size`` by default; the inputs are normalised, so
        0 is the mean colour); the logits are cropped to the image, the
        flipped ones flipped back, the pair averaged, then the sigmoid.

        Args:
            inputs: ``(B, 3, H, W)`` normalised images.
            image_size: minimum padded side.
        """
        if inputs.dim() != 4:
            raise ValueError(f'inputs must be (B, 3, H, W), got '
                             f'{tuple(inputs.shape)}')
        size = self.test_cfg['image_size'] if image_size is None \
            else image_size
        batch, height, width = inputs.shape[0], *inputs.shape[-2:]
        x = torch.cat([inputs, inputs.flip(-1)]) if self.test_cfg['flip'] \
            else inputs
        x = F.pad(x, (0, max(width, size) - width, 0,
                      max(height, size) - height))
        out_h, out_w = -(-height // 4), -(-width // 4)
        with torch.no_grad():
            logits = self.forward_edges(x)[..., :out_h, :out_w]
        if self.test_cfg['flip']:
            logits = logits[:batch] / 2 + logits[batch:].flip(-1) / 2
        return torch.sigmoid(logits)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[list] = None) -> list:
        """Boundary map of every image and the random walk of its stored
        CAMs (README: random walk).

        Each data sample gets ``edges`` (1×⌈h/4⌉×⌈w/4⌉ boundary
        probabilities of its unpadded ``img_shape``). A sample that carries
        stored CAMs (``gt_cams``, ``gt_cams_keys``, ``gt_cams_coarse``: the
        test pipeline's ``LoadCAMs(reduce='keys', coarse_stride=4)``) also
        gets ``cams`` (K×H×W walked maps in [0, 1], see :meth:`walk`) and
        ``cam_keys``: what ``CAMWriter`` saves as a CAM file.
        """
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(len(inputs))]
        edges = self.predict_edges(inputs)
        for i, ds in enumerate(data_samples):
            h, w = ds.metainfo.get('img_shape', inputs.shape[-2:])[:2]
            edge = edges[i, :, :-(-h // 4), :-(-w // 4)]
            ds.set_data(dict(edges=edge))
            if CAM_FIELD in ds:
                ds.set_data(dict(cams=self.walk(edge[0], ds, (h, w)),
                                 cam_keys=self._cam_field(ds, CAM_KEYS_FIELD)))
        return data_samples

    def walk(self, edge: torch.Tensor, data_sample: BaseDataElement,
             size: Tuple[int, int]) -> torch.Tensor:
        """Walk the stride-4 CAMs of ``data_sample`` over ``edge``
        (``(⌈H/4⌉, ⌈W/4⌉)``) with the settings of ``test_cfg``; return the
        ``(K, H, W)`` maps upsampled ×4, cropped to ``size`` and
        max-normalised (:func:`rw_to_full_resolution`). The walk starts
        from ``CAMs ** test_cfg.cam_power`` (1: P-NOC; IRN and W-OoD use
        1.5, which lowers weak activation relative to the peaks)."""
        cams = self._cam_field(data_sample, CAM_FIELD)
        coarse = self._cam_field(data_sample, CAM_COARSE_FIELD)
        name = data_sample.metainfo.get('img_path', '?')
        if tuple(cams.shape[-2:]) != tuple(size):
            raise DataError(
                f'CAM size {tuple(cams.shape[-2:])} != image size '
                f'{tuple(size)} of {name}; were the CAMs inferred for this '
                'data set?')
        if tuple(coarse.shape[-2:]) != stride4_size(size):
            raise DataError(
                f'stride-4 CAMs of {name} are {tuple(coarse.shape[-2:])}, '
                f'expected {stride4_size(size)}; load them with '
                'LoadCAMs(coarse_stride=4)')
        cfg = self.test_cfg
        if cfg['cam_power'] != 1:
            coarse = coarse.float().pow(cfg['cam_power'])
        walked = random_walk(coarse, edge.float(), beta=cfg['beta'],
                             exp_times=cfg['exp_times'], radius=cfg['radius'],
                             method=cfg['method'],
                             damp_edges=bool(cfg['damp_edges']))
        return rw_to_full_resolution(walked, size,
                                     normalize=cfg['normalize'])

    @staticmethod
    def _cam_field(data_sample: BaseDataElement,
                   field: str) -> torch.Tensor:
        """A stored-CAM field of ``data_sample`` as a tensor."""
        if field not in data_sample:
            raise KeyError(
                f'AffinityNet.predict walks the stored CAMs of the data '
                f'sample and found no `{field}`: the test pipeline needs '
                "dict(type='LoadCAMs', cam_dir=..., reduce='keys', "
                "coarse_stride=4) and PackWSSSInputs (see "
                'configs/_base_/datasets/rw_cams.py)')
        value = data_sample.get(field)
        return value.data if isinstance(value, PixelData) else value
