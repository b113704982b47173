# W-OoD stage 0: the in-distribution CAM classifier, IRN's recipe (W-OoD
# spec §2.3; the authors ship its result as res50_cam_orig.pth): ResNet-50
# (torchvision ImageNet weights, OS16, fixed BN, frozen stem), plain
# multi-label soft-margin loss, 5 epochs on VOC train_aug, batch 16, random
# long side 320-640, flip, 512 crops, IRN's PolyOptimizer
# (schedules/irn_5e.py). configs/woods/woods_r50_voc.py fine-tunes its last
# checkpoint.
_base_ = [
    '../_base_/models/resnet50_irn.py',
    '../_base_/datasets/voc12_cls.py',
    '../_base_/schedules/irn_5e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='CAMClassifier',
    data_preprocessor=_base_.irn_preprocessor,
    backbone=_base_.irn_backbone,
    num_classes=20,
    in_channels=_base_.irn_channels,
    pretrained=_base_.irn_weights,
    frozen_modules=_base_.irn_frozen_stem,
    loss=dict(type='MultiLabelSoftMarginLoss'),
    test_cfg=_base_.irn_test_cfg)
train_dataloader = dict(batch_size=16)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))
