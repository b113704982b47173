# Tiny P-NOC on the synthetic set: the demo and the tests. Both networks are
# the slim ResNet-18 of configs/cam/cam_tiny_synthetic.py; with no ImageNet
# weights here, the vanilla demo checkpoint plays both roles: backbone
# initialisation of the generator (`generator.pretrained` takes the backbone
# tensors of any checkpoint) and the noc (`noc_checkpoint`).
_base_ = [
    '../_base_/models/cam_tiny.py',
    '../_base_/models/separate_ddp.py',
    '../_base_/datasets/synthetic_cls.py',
    '../_base_/schedules/pnoc_15e.py',
    '../_base_/default_runtime.py',
]
vanilla_checkpoint = 'work_dirs/demo/vanilla/epoch_20.pth'
model = dict(
    type='PNOC',
    data_preprocessor={{_base_.tiny_preprocessor}},
    generator=dict(
        type='CAMClassifier',
        backbone={{_base_.tiny_backbone}},
        num_classes=6,
        in_channels={{_base_.tiny_in_channels}},
        pretrained=vanilla_checkpoint,
        test_cfg={{_base_.tiny_test_cfg}}),
    noc=dict(
        type='CAMClassifier',
        backbone={{_base_.tiny_backbone}},
        num_classes=6,
        in_channels={{_base_.tiny_in_channels}},
        freeze_bn=True,
        test_cfg={{_base_.tiny_test_cfg}}),
    noc_checkpoint=vanilla_checkpoint,
    mask_align='corner',  # as the CAMs: small images (see cam_tiny.py)
    loss=dict(type='MultiLabelSoftMarginLoss', label_smoothing=0.1))
max_epochs = 15  # the reference count (15 epochs)
# From scratch-like tiny nets converge faster with momentum in the short
# demo schedule (the reference recipe uses none).
sgd = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4)
optim_wrapper = dict(
    generator=dict(optimizer=sgd, accumulative_counts=1),
    noc=dict(optimizer=sgd, accumulative_counts=1))
poly = dict(
    type='PolyLR',
    power=0.9,
    eta_min=0.0,
    by_epoch=True,
    begin=0,
    end=max_epochs,
    convert_to_iter_based=True)
param_scheduler = dict(generator=[poly], noc=[poly])
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=1, save_last=True))
