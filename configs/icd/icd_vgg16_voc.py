# ICD on VOC 2012 train_aug with DeepLab's VGG16 (spec §3.4): SGD lr 1e-3,
# momentum 0.9, wd 5e-4 on weights only (MXNet's default: no decay on
# biases or BN beta), x10 for the CAM head (fc8) and the top-down head
# (conv_ft); poly 0.9 stepped per epoch (constant within an epoch), 20
# epochs, batch 32 (the reference: 2 GPUs x 16), crop 321.
# Superpixels first (README, ICD):
#   python tools/make_superpixels.py --config configs/icd/icd_vgg16_voc.py \
#       --split train_aug --out-dir data/VOCdevkit/VOC2012/superpixels
_base_ = [
    '../_base_/models/icd_vgg16.py',
    '../_base_/datasets/voc12_cls.py',
    '../_base_/schedules/icd_20e.py',
    '../_base_/default_runtime.py',
]
crop_size = (321, 321)
sp_dir = 'data/VOCdevkit/VOC2012/superpixels'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSuperpixels', sp_dir=sp_dir),
    dict(type='RandomRescale', ratios=(0.5, 0.75, 1.0, 1.25, 1.5)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCropPad', crop_size=crop_size,
         img_pad_val=(127, 127, 127)),
    dict(type='SuperpixelIds'),
    dict(type='PackWSSSInputs'),
]
# The reference's labels: VOC XML without difficult objects (it keeps
# them when every object is difficult; here such images have no label and
# are skipped).
train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        label_source='xml',
        include_difficult=False,
        pipeline=train_pipeline))
model = dict(data_preprocessor=dict(size=crop_size))
