# Single-optimizer schedule of Puzzle-CAM / OC-CSE / P-OC: the vanilla CAM
# schedule with its param groups over the generator (a frozen OC has no
# trainable parameter).
_base_ = ['./cam_15e.py']
optim_wrapper = dict(
    paramwise_cfg=dict(pretrained_prefixes=('generator.backbone.', )))
