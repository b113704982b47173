# Tiny W-OoD on the synthetic set with its OoD images (tools/demo_woods.py
# and the tests): fine-tunes the demo's vanilla classifier
# (configs/cam/cam_tiny_synthetic.py) for 5 epochs with the reference's
# losses and weights (λ = 0.007, β = 0.25, K = 50 OoD centres, climb step
# 0.07), 16 + 16 images per step, stage 3, stage 4 and the head trained,
# BN fixed, as configs/woods/woods_r50_voc.py. The optimizer is the one its
# stage 0 used (the reference also fine-tunes with its stage-0 optimizer).
# Data: `python tools/generate_synthetic.py data/synthetic --num-ood 200`.
# Centres: computed in-process by WOoDCentresHook (or
# `custom_hooks.1.centres_file=FILE` from tools/woods_centres.py).
_base_ = [
    '../_base_/models/cam_tiny.py',
    '../_base_/models/woods.py',
    '../_base_/models/separate_ddp.py',
    '../_base_/datasets/synthetic_ood.py',
    '../_base_/schedules/cam_15e.py',
    '../_base_/default_runtime.py',
]
# The in-distribution classifier this run fine-tunes: the main demo's
# vanilla run (tools/demo.py); tools/demo_woods.py trains its own and passes
# its path (model.init_checkpoint=...).
vanilla_checkpoint = 'work_dirs/demo/vanilla/epoch_20.pth'
model = dict(
    _base_.woods_model,
    data_preprocessor=_base_.tiny_preprocessor,
    backbone=dict(_base_.tiny_backbone, norm_eval=True),  # fixed BN
    num_classes=6,
    in_channels=_base_.tiny_in_channels,
    init_checkpoint=vanilla_checkpoint,
    test_cfg=_base_.tiny_cam_test_cfg)
max_epochs = 5
# stage 0's optimizer (configs/cam/cam_tiny_synthetic.py)
optim_wrapper = dict(optimizer=dict(lr=0.05, momentum=0.9))
param_scheduler = [dict(_base_.poly, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [
    dict(type='OoDBatchHook', ood_dataloader=_base_.ood_dataloader),
    dict(type='WOoDCentresHook', centres_file=None),
    # separate_ddp.py's: under DDP the model's own train_step runs (it
    # takes the OoD batch) and the checkpoints stay loadable
    dict(type='StripSubmoduleWrapperHook'),
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=1, save_last=True))
