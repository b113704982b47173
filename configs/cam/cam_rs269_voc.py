# Vanilla CAM + RandAugment + label smoothing on VOC 2012 train_aug with
# ResNeSt-269: the "ordinary classifier" that P-OC/P-NOC start from
# (README: P-NOC, HEAD runner: batch 32, lr 0.1, wd 1e-4, 15 epochs, SGD
# without momentum, poly, crop 512, long side 320-640, LS 0.1).
_base_ = [
    '../_base_/models/cam_resnest269.py',
    '../_base_/datasets/voc12_cls.py',
    '../_base_/datasets/rand_augment.py',
    '../_base_/schedules/cam_15e.py',
    '../_base_/default_runtime.py',
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizeLongSide', min_size=320, max_size=640),
    dict(type='RandomFlip', prob=0.5),
    *_base_.rand_augment_steps,
    dict(type='RandomCropPad', crop_size=_base_.crop_size),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
