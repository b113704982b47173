# Tiny vanilla CAM on the embedded synthetic set: the demo and the tests.
# A slim ResNet-18 (16 base channels) from scratch at output stride 16, so it
# trains on 2 CPU cores in about a minute.
_base_ = [
    '../_base_/models/cam_tiny.py',
    '../_base_/datasets/synthetic_cls.py',
    '../_base_/schedules/cam_15e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='CAMClassifier',
    data_preprocessor=_base_.tiny_preprocessor,
    backbone=_base_.tiny_backbone,
    num_classes=6,
    in_channels=_base_.tiny_in_channels,
    pretrained=None,
    loss=dict(type='MultiLabelSoftMarginLoss', label_smoothing=0.1),
    test_cfg=_base_.tiny_cam_test_cfg)
max_epochs = 20
# From scratch: momentum helps a randomly initialised backbone converge in
# the demo's short schedule (the reference recipe fine-tunes ImageNet
# weights without momentum).
optim_wrapper = dict(optimizer=dict(lr=0.05, momentum=0.9))
param_scheduler = [dict(_base_.poly, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=1, save_last=True))
