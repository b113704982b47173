# P-OC (Puzzle-CAM + OC-CSE, frozen OC) with ResNeSt-269 on VOC 2012:
# batch 16 x accumulation 2 as P-NOC, one optimizer.
_base_ = [
    '../_base_/models/pnoc_resnest269.py',
    '../_base_/datasets/voc12_cls.py',
    '../_base_/schedules/cam_family_15e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='POC',
    oc=_base_.second_classifier,
    # written by the vanilla CAM run, configs/cam/cam_rs269_voc.py
    oc_checkpoint='work_dirs/cam_rs269_voc/epoch_15.pth')
optim_wrapper = dict(accumulative_counts=2)
train_dataloader = dict(batch_size=16)
