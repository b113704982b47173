# P-NOC with ResNeSt-269 on COCO 2014: lr 0.05, long side 400-800, crop 640
# (HEAD runner; paper-era: 320-640 / 512).
_base_ = [
    '../_base_/models/pnoc_resnest269.py',
    '../_base_/datasets/coco14_cls.py',
    '../_base_/schedules/pnoc_15e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    data_preprocessor=dict(size=(640, 640)),
    generator=dict(num_classes=80),
    noc=dict(_base_.second_classifier, num_classes=80),
    # written by the vanilla CAM run, configs/cam/cam_rs269_coco.py
    noc_checkpoint='work_dirs/cam_rs269_coco/epoch_15.pth')
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=0.05)),
    noc=dict(optimizer=dict(lr=0.05)))
train_dataloader = dict(batch_size=16)
