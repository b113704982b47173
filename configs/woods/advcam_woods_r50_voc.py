# AdvCAM seeds from the W-OoD classifier (configs/woods/woods_r50_voc.py;
# README: W-OoD, AdvCAM): the W-OoD model with the reference's AdvCAM
# inference (_base_/models/advcam.py; TTA scales (1.0, 0.5, 1.5, 2.0) x
# flip). The W-OoD pipeline's CAM stage (configs/pipelines/woods_voc.py)
# infers with it.
_base_ = ['./woods_r50_voc.py', '../_base_/models/advcam.py']
model = dict(test_cfg=dict(cam_mode=_base_.advcam_mode))
