# W-OoD stage 0: the in-distribution CAM classifier, IRN's recipe (W-OoD
# README: W-OoD; the authors ship its result as res50_cam_orig.pth): ResNet-50
# (torchvision ImageNet weights, OS16, fixed BN, frozen stem; see
# _base_/models/cam_r50_irn.py), plain multi-label soft-margin loss,
# 5 epochs on VOC train_aug, batch 16, random long side 320-640, flip,
# 512 crops, IRN's PolyOptimizer (_base_/schedules/irn_5e.py).
# configs/woods/woods_r50_voc.py fine-tunes its last checkpoint.
_base_ = [
    '../_base_/models/cam_r50_irn.py',
    '../_base_/datasets/voc12_cls.py',
    '../_base_/schedules/irn_5e.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(batch_size=16)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))
