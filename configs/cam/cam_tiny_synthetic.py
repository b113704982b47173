# Tiny vanilla CAM on the embedded synthetic set: the demo and the tests.
# A slim ResNet-18 (16 base channels) from scratch at output stride 16, so it
# trains on 2 CPU cores in about a minute.
_base_ = [
    '../_base_/datasets/synthetic_cls.py',
    '../_base_/schedules/cam_15e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='CAMClassifier',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        size={{_base_.crop_size}},
        pad_val=0,
        seg_pad_val=255),
    backbone=dict(
        type='ResNet',
        _scope_='mmpretrain',
        depth=18,
        stem_channels=16,
        base_channels=16,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        out_indices=(3, )),
    num_classes=6,
    in_channels=128,
    pretrained=None,
    loss=dict(type='MultiLabelSoftMarginLoss', label_smoothing=0.1),
    test_cfg=dict(scales=(1.0, 0.5, 1.5, 2.0), flip=True, stride=16))
max_epochs = 20
# From scratch: momentum helps a randomly initialised backbone converge in
# the demo's short schedule (the reference recipe fine-tunes ImageNet
# weights without momentum).
optim_wrapper = dict(optimizer=dict(lr=0.05, momentum=0.9))
param_scheduler = [
    dict(
        type='PolyLR',
        power=0.9,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=1, save_last=True))
