# Tiny C²AM-H on the synthetic set (the demo's saliency stage): the tiny
# C²AM plus hints from the vanilla CAM demo's train_aug CAMs
# (tools/infer_cams.py configs/cam/cam_tiny_synthetic.py ... --split
# train_aug --out-dir work_dirs/demo/cams/train_aug). Other CAMs:
#   --cfg-options train_dataloader.dataset.pipeline.1.cam_dir=DIR
_base_ = ['./c2am_tiny_synthetic.py', '../_base_/models/c2am_hint.py']
hint_cam_dir = 'work_dirs/demo/cams/train_aug'
# _delete_: the base's hint is None
model = dict(hint=dict(_base_.c2am_hint, _delete_=True))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCAMHint', cam_dir=hint_cam_dir),
    dict(type='RandomResizeLongSide', min_size=56, max_size=96),
    dict(type='RandomCropPad', crop_size={{_base_.crop_size}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
