# The CAM classifier of IRN and W-OoD on ResNet-50 (README: W-OoD):
# the model of configs/woods/cam_r50_irn_voc.py (stage 0), which
# configs/woods/woods_r50_voc.py turns into W-OoD.
# - the IRN ResNet-50 of resnet50_irn.py: torchvision layout (MMSeg's
#   default ResNetV1c is another architecture), output stride 16 without
#   dilation, every BN fixed (`norm_eval`: running statistics frozen,
#   affine parameters trainable where their stage is, as IRN's
#   FixedBatchNorm);
# - conv1 and bn1 frozen (no gradient), as the reference;
# - a 1x1 head without bias on layer4, the plain multi-label soft-margin
#   loss (no label smoothing);
# - the ImageNet normalisation, 512 px training batches and the reference's
#   TTA (4 scales x flip, stride 16, centred cells) of resnest269.py.
_base_ = ['./resnest269.py', './resnet50_irn.py']
model = dict(
    type='CAMClassifier',
    data_preprocessor=_base_.resnest_preprocessor,
    backbone=_base_.irn_backbone,
    num_classes=20,
    in_channels=2048,
    pretrained=_base_.irn_weights,
    frozen_modules=('backbone.conv1', 'backbone.bn1'),
    loss=dict(type='MultiLabelSoftMarginLoss'),
    test_cfg=_base_.cam_test_cfg)
