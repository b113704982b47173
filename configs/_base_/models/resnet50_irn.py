# ResNet-50 as IRN and W-OoD use it (W-OoD spec §2.2, §2.7), and its data
# preprocessor / TTA: the parts the W-OoD configs assemble.
# - torchvision layout (stride in the 3x3 conv): mmpretrain's ResNet, whose
#   keys match torchvision's `resnet50-19c8e357.pth` (MMSeg's default
#   ResNetV1c is another architecture);
# - output stride 16 without dilation: stem /4, layer2 /2, layer3 /2,
#   layer4 stride 1 (the reference's strides=(2,2,2,1) count the stem conv);
# - every BN fixed (`norm_eval`: running statistics frozen, affine
#   parameters trainable where their stage is, as IRN's FixedBatchNorm);
# - conv1 and bn1 frozen (no gradient), as the reference.
irn_weights = 'data/pretrained/resnet50-19c8e357.pth'
irn_backbone = dict(
    type='ResNet',
    _scope_='mmpretrain',
    depth=50,
    strides=(1, 2, 2, 1),
    dilations=(1, 1, 1, 1),
    norm_eval=True,
    out_indices=(3, ))
irn_channels = 2048  # layer4
irn_frozen_stem = ('backbone.conv1', 'backbone.bn1')
irn_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size=(512, 512),
    pad_val=0,
    seg_pad_val=255)
# IRN's make_cam: 4 scales x flip at stride 16, CAM cells centred on their
# pixels
irn_test_cfg = dict(
    scales=(1.0, 0.5, 1.5, 2.0), flip=True, stride=16, align='center')
