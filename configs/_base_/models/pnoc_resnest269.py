# P-NOC on ResNeSt-269 (output stride 16), VOC: generator f (CAM classifier
# from ImageNet weights) + noc, initialised from the vanilla CAM run
# (configs/cam/cam_rs269_voc.py) and trained with frozen BN.
_base_ = ['./resnest269.py', './separate_ddp.py']
classifier = dict(
    type='CAMClassifier',
    backbone=_base_.resnest269_backbone,
    num_classes=20,
    in_channels=_base_.resnest269_channels,
    test_cfg=_base_.cam_test_cfg)
model = dict(
    type='PNOC',
    data_preprocessor=_base_.resnest_preprocessor,
    generator=dict(classifier, pretrained=_base_.resnest269_weights),
    noc=dict(classifier, freeze_bn=True),
    # The prerequisite: the vanilla CAM (+RandAugment, LS) checkpoint.
    noc_checkpoint='work_dirs/cam_rs269_voc/epoch_15.pth',
    puzzle=True,
    cse=True,
    train_noc=True,
    noc_interval=1,
    noc_threshold=0.2,
    erase_rule='code',
    soft_mask_global_norm=True,
    hard_mask_global_norm=False,
    mask_align='resize',  # the reference's plain resize of the CAM
    noc_receives_cse_grad=True,
    weights=dict(
        re=dict(start=0.0, end=4.0, fraction=0.5),
        cse=dict(start=0.3, end=1.0, fraction=1.0),
        noc=dict(start=0.0, end=1.0, fraction=1.0)),
    loss=dict(type='MultiLabelSoftMarginLoss', label_smoothing=0.1))
