# Vanilla CAM (+RandAugment, LS 0.1) with ResNet-50 on VOC 2012: mmpretrain's
# ResNet at output stride 16; torchvision's ImageNet weights
# (`resnet50-19c8e357.pth`) share its key layout.
_base_ = ['./cam_rs269_voc.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        _scope_='mmpretrain',
        depth=50,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        out_indices=(3, )),
    in_channels=2048,
    pretrained='data/pretrained/resnet50-19c8e357.pth')
