# Tiny AffinityNet on the embedded synthetic set: the demo and the tests.
# The frozen backbone is the slim ResNet-18 of
# configs/cam/cam_tiny_synthetic.py; with no ImageNet weights here it is
# initialised from the vanilla demo CAM checkpoint (`model.pretrained` takes
# the backbone tensors of a CAMClassifier checkpoint; for a P-NOC checkpoint
# also set model.pretrained_prefix='generator.backbone.').
# Sizes scaled to the 64-96 px images: 64 px crops from a 56-96 long side,
# so the boundary map is 16x16; radius 5 (the reference's 10 needs maps
# wider than 18 px and would leave no source pixel; 5 keeps 12x8 source
# pixels and equals the random-walk radius); boundary inference pads to 64.
# Labels: tools/make_affinity_labels.py output in `label_dir` (relative to
# data_root or absolute), or
#   --cfg-options train_dataloader.dataset.data_prefix.seg_map_path=DIR
_base_ = [
    '../_base_/models/cam_tiny.py',
    '../_base_/datasets/synthetic_cls.py',
    '../_base_/schedules/affinity_3e.py',
    '../_base_/default_runtime.py',
]
vanilla_checkpoint = 'work_dirs/demo/vanilla/epoch_20.pth'
label_dir = 'SegmentationClassAffinity'
model = dict(
    type='AffinityNet',
    data_preprocessor={{_base_.tiny_preprocessor}},
    backbone={{_base_.tiny_backbone}},
    num_classes=6,
    radius=5,
    channels=32,
    gn_groups=4,
    pretrained=vanilla_checkpoint,
    pretrained_prefix=None,
    loss=dict(type='AffinityLoss'),
    test_cfg=dict(image_size=64, flip=True))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadOptionalAnnotations'),
    dict(type='RandomResizeLongSide', min_size=56, max_size=96),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCropPad', crop_size={{_base_.crop_size}},
         seg_pad_val=255),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        data_prefix=dict(img_path='JPEGImages', seg_map_path=label_dir),
        label_source='xml',
        skip_background_only=True,
        pipeline=train_pipeline))
# The reference schedule (_base_/schedules/affinity_3e.py: 3 epochs, SGD lr
# 0.1 without momentum, poly): 45 iterations over the 240 train_aug images.
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=3, max_keep_ckpts=1, save_last=True))
# Random walk: 2^3 steps instead of the reference's 2^8, which diffuse the
# CAMs over the whole 16-24 px stride-4 maps of these small images (train
# split mIoU of the walked demo CAMs: 26.9 with 2^8, 42.4 with 2^4, 44.4
# with 2^3).
rw_cfg = dict(beta=10, exp_times=3, radius=5)
