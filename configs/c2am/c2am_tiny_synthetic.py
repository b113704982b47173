# Tiny C²AM (no hints) on the synthetic set, for the demo and the tests: the
# slim ResNet-18 of configs/cam/cam_tiny_synthetic.py. With no ImageNet
# weights here, the backbone starts from the vanilla CAM demo checkpoint
# (`model.pretrained` takes the backbone tensors of any mmwsss checkpoint
# with this backbone; None trains from scratch).
_base_ = [
    '../_base_/models/c2am_tiny.py',
    '../_base_/datasets/synthetic_cls.py',
    '../_base_/schedules/c2am_10e.py',
    '../_base_/default_runtime.py',
]
vanilla_checkpoint = 'work_dirs/demo/vanilla/epoch_20.pth'
model = dict(pretrained=vanilla_checkpoint)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizeLongSide', min_size=56, max_size=96),
    dict(type='RandomCropPad', crop_size={{_base_.crop_size}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
max_epochs = 10
# Short CPU schedule: momentum and a larger lr than the reference's 0.001
# (which fine-tunes ImageNet weights for 825 optimizer steps).
optim_wrapper = dict(
    optimizer=dict(lr=0.01, momentum=0.9), accumulative_counts=1)
param_scheduler = [dict(_base_.poly, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=5, max_keep_ckpts=1, save_last=True))
