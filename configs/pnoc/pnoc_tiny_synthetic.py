# Tiny P-NOC on the synthetic set: the demo and the tests. Both networks are
# the slim ResNet-18 of configs/cam/cam_tiny_synthetic.py; with no ImageNet
# weights here, the vanilla demo checkpoint plays both roles: backbone
# initialisation of the generator (`generator.pretrained` takes the backbone
# tensors of any checkpoint) and the noc (`noc_checkpoint`). It is written
# by the demo's vanilla run (configs/cam/cam_tiny_synthetic.py).
_base_ = [
    '../_base_/models/cam_tiny.py',
    '../_base_/models/separate_ddp.py',
    '../_base_/datasets/synthetic_cls.py',
    '../_base_/schedules/pnoc_15e.py',
    '../_base_/default_runtime.py',
]
vanilla_checkpoint = 'work_dirs/demo/vanilla/epoch_20.pth'
classifier = dict(
    type='CAMClassifier',
    backbone=_base_.tiny_backbone,
    num_classes=6,
    in_channels=_base_.tiny_in_channels,
    test_cfg=_base_.tiny_cam_test_cfg)
model = dict(
    type='PNOC',
    data_preprocessor=_base_.tiny_preprocessor,
    generator=dict(classifier, pretrained=vanilla_checkpoint),
    noc=dict(classifier, freeze_bn=True),
    noc_checkpoint=vanilla_checkpoint,
    mask_align='corner',  # as the CAMs: small images (see cam_tiny.py)
    loss=dict(type='MultiLabelSoftMarginLoss', label_smoothing=0.1))
# The reference schedule's 15 epochs; tiny nets from scratch-like starts
# converge faster with momentum in the short demo (the reference uses none).
sgd = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4)
optim_wrapper = dict(
    generator=dict(optimizer=sgd, accumulative_counts=1),
    noc=dict(optimizer=sgd, accumulative_counts=1))
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=1, save_last=True))
