# C²AM-H with ResNeSt-269 on VOC 2012 (README: C²AM, HEAD runner): C²AM
# plus the hint loss, BCE (target 1 smoothed to 0.95) on the disentangler
# logits where the max-over-classes P-NOC CAM is >= 0.4, weight 1.
#
# The hints are P-NOC's CAMs of train_aug (tools/infer_cams.py ... --split
# train_aug); point the pipeline at them with
#   --cfg-options train_dataloader.dataset.pipeline.1.cam_dir=DIR
_base_ = ['./c2am_rs269_voc.py', '../_base_/models/c2am_hint.py']
hint_cam_dir = 'work_dirs/pnoc_rs269_voc/cams_train_aug'
# _delete_: the base's hint is None
model = dict(hint=dict(_base_.c2am_hint, _delete_=True))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCAMHint', cam_dir=hint_cam_dir),
    {{_base_.resize}},
    dict(type='RandomCropPad', crop_size={{_base_.crop_size}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
