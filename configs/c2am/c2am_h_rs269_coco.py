# C²AM-H with ResNeSt-269 on MS COCO 2014 train2014: the VOC recipe with
# COCO's runner values, lr 0.0005 and δ_fg 0.3 (README: pipeline). Hints:
# P-NOC's CAMs of train2014, set with
#   --cfg-options train_dataloader.dataset.pipeline.1.cam_dir=DIR
_base_ = [
    '../_base_/models/c2am_resnest269.py',
    '../_base_/models/c2am_hint.py',
    '../_base_/datasets/coco14_cls.py',
    '../_base_/schedules/c2am_10e.py',
    '../_base_/default_runtime.py',
]
crop_size = (448, 448)
hint_cam_dir = 'work_dirs/pnoc_rs269_coco/cams_train'
# _delete_: the base's hint is None
model = dict(hint=dict(_base_.c2am_hint, _delete_=True, fg_threshold=0.3))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCAMHint', cam_dir=hint_cam_dir),
    dict(type='FixedResize', size=(515, 515), interpolation='bilinear'),
    dict(type='RandomCropPad', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.0005))
