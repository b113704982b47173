# P-NOC (+LS) with ResNeSt-269 on VOC 2012 train_aug: batch 16 x
# accumulation 2, 15 epochs, lr 0.1, wd 1e-4, no colour augmentation (HEAD
# runner; the paper-era runner used ColorJitter, see README switches).
_base_ = [
    '../_base_/models/pnoc_resnest269.py',
    '../_base_/datasets/voc12_cls.py',
    '../_base_/schedules/pnoc_15e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    noc=_base_.second_classifier,
    # written by the vanilla CAM run, configs/cam/cam_rs269_voc.py
    noc_checkpoint='work_dirs/cam_rs269_voc/epoch_15.pth')
train_dataloader = dict(batch_size=16)
