# P-NOC on ResNeSt-269 (output stride 16), VOC: generator f (CAM classifier
# from ImageNet weights) + noc, initialised from the vanilla CAM run
# (configs/cam/cam_rs269_voc.py) and trained with frozen BN.
_base_ = ['./separate_ddp.py']
norm_mean = [123.675, 116.28, 103.53]
norm_std = [58.395, 57.12, 57.375]
backbone = dict(
    type='TIMMBackbone',
    model_name='resnest269e',
    features_only=True,
    pretrained=False,
    output_stride=16,
    out_indices=(4, ))
cam_test_cfg = dict(scales=(1.0, 0.5, 1.5, 2.0), flip=True, stride=16)
model = dict(
    type='PNOC',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=norm_mean,
        std=norm_std,
        bgr_to_rgb=True,
        size=(512, 512),
        pad_val=0,
        seg_pad_val=255),
    generator=dict(
        type='CAMClassifier',
        backbone=backbone,
        num_classes=20,
        in_channels=2048,
        pretrained='data/pretrained/resnest269-0cc87c48.pth',
        test_cfg=cam_test_cfg),
    noc=dict(
        type='CAMClassifier',
        backbone=backbone,
        num_classes=20,
        in_channels=2048,
        freeze_bn=True,
        test_cfg=cam_test_cfg),
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
    mask_align='center',
    noc_receives_cse_grad=True,
    accumulation='sum',
    weights=dict(
        re=dict(start=0.0, end=4.0, fraction=0.5),
        cse=dict(start=0.3, end=1.0, fraction=1.0),
        noc=dict(start=0.0, end=1.0, fraction=1.0)),
    loss=dict(type='MultiLabelSoftMarginLoss', label_smoothing=0.1))
