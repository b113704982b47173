# CAM classifier on ResNeSt-269 at output stride 16 (P-NOC's headline
# backbone), from the official ImageNet weights (see resnest269.py).
_base_ = ['./resnest269.py']
model = dict(
    type='CAMClassifier',
    data_preprocessor=_base_.resnest_preprocessor,
    backbone=_base_.resnest269_backbone,
    num_classes=20,
    in_channels=_base_.resnest269_channels,
    pretrained=_base_.resnest269_weights,
    loss=dict(type='MultiLabelSoftMarginLoss', label_smoothing=0.1),
    test_cfg=_base_.cam_test_cfg)
