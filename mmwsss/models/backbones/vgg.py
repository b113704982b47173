"""DeepLab-LargeFOV-style VGG16 at output stride 8 (ICD's backbone).

ImageNet VGG16 with pool4 and pool5 at stride 1, conv5 dilated by 2 and
reduced 1024-channel fc6 (3×3) / fc7 (1×1) convolutions, the layout of the
DeepLab "VGG16 20M" initialisation ICD starts from (spec §3.2):

    conv1_x(64) → max 3/2/1 → conv2_x(128) → max 3/2/1 → conv3_x(256)
    → max 3/2/1 → conv4_x(512) → max 3/1/1 → conv5_x(512, dilation 2)
    → pool5 (max 3/1/1) → pool5a (avg 3/1/1, padding counted)
    → fc6 (3×3, 1024, dilation 1) → ReLU → Dropout 0.5
    → fc7 (1×1, 1024) → ReLU → Dropout 0.5

A 321×321 input gives 41×41 maps (513: 65×65). Parameter names follow the
Caffe/MXNet layer names (``conv1_1.weight`` ... ``fc7.bias``), so a
converted "20M" file loads by name through ``load_backbone_weights``.
"""
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmwsss.registry import MODELS

#: (block, number of convolutions, output channels) of VGG16.
VGG16_BLOCKS: Tuple[Tuple[int, int, int], ...] = ((1, 2, 64), (2, 2, 128),
                                                  (3, 3, 256), (4, 3, 512),
                                                  (5, 3, 512))
#: Stride of the max-pooling after blocks 1-4 (OS8: pool4 at stride 1).
POOL_STRIDES = (2, 2, 2, 1)
FC_CHANNELS = 1024


def scaled(channels: int, width_mult: float) -> int:
    """``channels`` times ``width_mult``, at least 1."""
    return max(1, int(round(channels * width_mult)))


@MODELS.register_module()
class DeepLabVGG16(BaseModule):
    """VGG16 at output stride 8 with DeepLab's fc6/fc7 (see the module
    docstring).

    Returns ``(conv5_3, fc7)``: the ReLU output of conv5_3 (ICD's
    bottom-up / top-down features) and the fc7 output after its dropout
    (the CAM branch's input), both at stride 8.

    Args:
        width_mult: channel multiplier of every layer (1.0: VGG16; the tiny
            CPU variant uses e.g. 0.125).
        fc_channels: channels of fc6/fc7 before ``width_mult``.
        dropout: drop probability after fc6 and fc7 (the reference: 0.5).
        norm: BatchNorm after every convolution. The reference has none;
            it helps the tiny variant train from scratch.
    """

    def __init__(self,
                 width_mult: float = 1.0,
                 fc_channels: int = FC_CHANNELS,
                 dropout: float = 0.5,
                 norm: bool = False,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if width_mult <= 0:
            raise ValueError(f'width_mult must be > 0, got {width_mult}')
        self.width_mult = float(width_mult)
        self.norm = norm
        self.conv_names: List[str] = []
        in_ch = 3
        for block, num, out in VGG16_BLOCKS:
            out = scaled(out, width_mult)
            dilation = 2 if block == 5 else 1
            for i in range(1, num + 1):
                name = f'conv{block}_{i}'
                self._add_conv(name, in_ch, out, 3, dilation)
                in_ch = out
        self.conv5_channels = in_ch
        self.fc_channels = scaled(fc_channels, width_mult)
        self._add_conv('fc6', in_ch, self.fc_channels, 3, 1)
        self._add_conv('fc7', self.fc_channels, self.fc_channels, 1, 1)
        self.pools = nn.ModuleList(
            nn.MaxPool2d(3, s, 1) for s in POOL_STRIDES)
        self.pool5 = nn.MaxPool2d(3, 1, 1)
        self.pool5a = nn.AvgPool2d(3, 1, 1, count_include_pad=True)
        self.drop6 = nn.Dropout(dropout)
        self.drop7 = nn.Dropout(dropout)
        # from scratch: Kaiming-normal convolutions, zero biases; ImageNet
        # weights are loaded over them by the model (``pretrained``)
        for name in self.conv_names:
            conv = getattr(self, name)
            nn.init.kaiming_normal_(conv.weight, mode='fan_out',
                                    nonlinearity='relu')
            nn.init.zeros_(conv.bias)

    def _add_conv(self, name: str, in_ch: int, out_ch: int, kernel: int,
                  dilation: int) -> None:
        pad = dilation * (kernel // 2)
        self.add_module(
            name, nn.Conv2d(in_ch, out_ch, kernel, padding=pad,
                            dilation=dilation))
        if self.norm:
            self.add_module(f'{name}_bn', nn.BatchNorm2d(out_ch))
        self.conv_names.append(name)

    def _conv_relu(self, name: str, x: torch.Tensor) -> torch.Tensor:
        x = getattr(self, name)(x)
        if self.norm:
            x = getattr(self, f'{name}_bn')(x)
        return F.relu(x, inplace=True)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        for (block, num, _), pool in zip(VGG16_BLOCKS[:4], self.pools):
            for i in range(1, num + 1):
                x = self._conv_relu(f'conv{block}_{i}', x)
            x = pool(x)
        for i in range(1, 4):
            x = self._conv_relu(f'conv5_{i}', x)
        conv5 = x
        x = self.pool5a(self.pool5(x))
        x = self.drop6(self._conv_relu('fc6', x))
        x = self.drop7(self._conv_relu('fc7', x))
        return conv5, x
