# Puzzle-CAM with ResNeSt-269 on VOC 2012 (no second classifier).
_base_ = [
    '../_base_/models/pnoc_resnest269.py',
    '../_base_/datasets/voc12_cls.py',
    '../_base_/schedules/cam_family_15e.py',
    '../_base_/default_runtime.py',
]
model = dict(type='PuzzleCAM')
optim_wrapper = dict(accumulative_counts=2)
train_dataloader = dict(batch_size=16)
