# Vanilla CAM (+RandAugment, LS 0.1) with ResNeSt-269 on COCO 2014
# (lr 0.05, long side 400-800, crop 640: HEAD runner values).
_base_ = [
    '../_base_/models/cam_resnest269.py',
    '../_base_/datasets/coco14_cls.py',
    '../_base_/datasets/rand_augment.py',
    '../_base_/schedules/cam_15e.py',
    '../_base_/default_runtime.py',
]
model = dict(num_classes=80, data_preprocessor=dict(size=(640, 640)))
optim_wrapper = dict(optimizer=dict(lr=0.05))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizeLongSide', min_size=400, max_size=800),
    dict(type='RandomFlip', prob=0.5),
    *_base_.rand_augment_steps,
    dict(type='RandomCropPad', crop_size=_base_.crop_size),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
