# The CAM classifier of IRN and W-OoD on ResNet-50 (README: W-OoD):
# the model of configs/woods/cam_r50_irn_voc.py (stage 0), which
# configs/woods/woods_r50_voc.py turns into W-OoD.
# - torchvision layout (stride in the 3x3 conv): mmpretrain's ResNet, whose
#   keys match torchvision's `resnet50-19c8e357.pth` (MMSeg's default
#   ResNetV1c is another architecture);
# - output stride 16 without dilation: stem /4, layer2 /2, layer3 /2,
#   layer4 stride 1 (the reference's strides=(2,2,2,1) count the stem conv);
# - every BN fixed (`norm_eval`: running statistics frozen, affine
#   parameters trainable where their stage is, as IRN's FixedBatchNorm);
# - conv1 and bn1 frozen (no gradient), as the reference;
# - a 1x1 head without bias on layer4, the plain multi-label soft-margin
#   loss (no label smoothing);
# - the ImageNet normalisation, 512 px training batches and the reference's
#   TTA (4 scales x flip, stride 16, centred cells) of resnest269.py.
_base_ = ['./resnest269.py']
irn_weights = 'data/pretrained/resnet50-19c8e357.pth'
model = dict(
    type='CAMClassifier',
    data_preprocessor=_base_.resnest_preprocessor,
    backbone=dict(
        type='ResNet',
        _scope_='mmpretrain',
        depth=50,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 1),
        norm_eval=True,
        out_indices=(3, )),
    num_classes=20,
    in_channels=2048,
    pretrained=irn_weights,
    frozen_modules=('backbone.conv1', 'backbone.bn1'),
    loss=dict(type='MultiLabelSoftMarginLoss'),
    test_cfg=_base_.cam_test_cfg)
