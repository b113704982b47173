# The P-NOC family on ResNeSt-269 (output stride 16), VOC: generator f (CAM
# classifier from ImageNet weights). The method configs (configs/pnoc/) add
# the second classifier under the key of its role, `noc` (P-NOC, trained)
# or `oc` (OC-CSE / P-OC, frozen), from `second_classifier` below, with the
# checkpoint of the vanilla CAM run that initialises it.
_base_ = ['./resnest269.py', './separate_ddp.py']
classifier = dict(
    type='CAMClassifier',
    backbone=_base_.resnest269_backbone,
    num_classes=20,
    in_channels=_base_.resnest269_channels,
    test_cfg=_base_.cam_test_cfg)
# the second classifier (noc or oc), with frozen BN as in the reference
second_classifier = dict(classifier, freeze_bn=True)
model = dict(
    type='PNOC',
    data_preprocessor=_base_.resnest_preprocessor,
    generator=dict(classifier, pretrained=_base_.resnest269_weights),
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
