# OC-CSE with ResNeSt-269 on VOC 2012, the runner's original settings:
# generator with frozen BN and frozen stem at output stride 8, frozen OC.
_base_ = [
    '../_base_/models/pnoc_resnest269.py',
    '../_base_/datasets/voc12_cls.py',
    '../_base_/schedules/cam_family_15e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='OCCSE',
    generator=dict(
        backbone=dict(output_stride=8),
        freeze_bn=True,
        frozen_modules=('backbone.timm_model.conv1',
                        'backbone.timm_model.bn1'),
        test_cfg=dict(stride=8)),
    oc=_base_.second_classifier,
    # written by the vanilla CAM run, configs/cam/cam_rs269_voc.py
    oc_checkpoint='work_dirs/cam_rs269_voc/epoch_15.pth')
optim_wrapper = dict(accumulative_counts=2)
train_dataloader = dict(batch_size=16)
