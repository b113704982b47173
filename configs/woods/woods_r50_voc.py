# W-OoD stage 1 on VOC 2012 (README: W-OoD): fine-tune the stage-0 IRN
# classifier (configs/woods/cam_r50_irn_voc.py) for 5 epochs with
#   BCE + λ·L_M + β·L_ood,  λ = 0.007, β = 0.25 (the reference's values),
# 16 train_aug images + 16 OoD images (data/WOoD_dataset/openimages, see
# _base_/datasets/voc12_ood.py) per step. Only stage 3, stage 4 and the head
# train (conv1/bn1/layer1/layer2 frozen, every BN fixed), with IRN's
# PolyOptimizer (_base_/schedules/irn_5e.py: lr 0.1, head x10, wd 1e-4,
# poly 0.9, the official momentum quirk).
# Centres: computed in-process before training by WOoDCentresHook with the
# stage-0 weights (class means over train_aug, K-means K=50 over the OoD
# images at a long side of 500), or read from the side file of
#   python tools/woods_centres.py configs/woods/woods_r50_voc.py STAGE0 \
#       --out centres.pth --ood-long-side 500
# via `--cfg-options custom_hooks.1.centres_file=centres.pth`.
# Model selection: the final checkpoint (epoch_5.pth). The reference keeps
# the checkpoint with the best CAM mIoU against the GT of VOC train, which
# is label leakage; here no ground truth of the training set is used.
_base_ = [
    '../_base_/models/cam_r50_irn.py',
    '../_base_/models/woods.py',
    '../_base_/models/separate_ddp.py',
    '../_base_/datasets/voc12_ood.py',
    '../_base_/schedules/irn_5e.py',
    '../_base_/default_runtime.py',
]
# The stage-0 checkpoint this run fine-tunes: set it to your run of
# configs/woods/cam_r50_irn_voc.py (or --cfg-options
# model.init_checkpoint=PATH). Training stops with an error naming this key
# when the file is missing.
stage0_checkpoint = 'work_dirs/cam_r50_irn_voc/epoch_5.pth'
model = dict(
    _base_.woods_model,
    init_checkpoint=stage0_checkpoint,
    # exclude_classes=(4, ): the official code's unexplained exemption of
    # 'bottle' (kept for parity; () gives the plain loss)
    ood_loss=dict(_base_.woods_model.ood_loss, exclude_classes=(4, )))
train_dataloader = dict(batch_size=16)
custom_hooks = [
    dict(type='OoDBatchHook', ood_dataloader=_base_.ood_dataloader),
    dict(type='WOoDCentresHook', centres_file=None, ood_long_side=500),
    # separate_ddp.py's: under DDP the model's own train_step runs (it
    # takes the OoD batch) and the checkpoints stay loadable
    dict(type='StripSubmoduleWrapperHook'),
]
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1, save_last=True))
