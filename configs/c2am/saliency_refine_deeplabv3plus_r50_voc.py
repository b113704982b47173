# Saliency refinement (PoolNet's role in P-NOC, README: C²AM; no PoolNet
# port): a
# stock MMSeg DeepLabV3+ R50-D8 with 2 classes (background, salient) trained
# on the C²AM-H pseudo-saliency masks of VOC train_aug
# (tools/make_pseudo_saliency.py: grey PNGs, 0 / 255), then inferred on all
# train_aug images (tools/infer_saliency.py: softmax of class 1, x255 ->
# grey PNG). Any other MMSeg segmentor plugs in the same way: inherit its
# stock config and copy the data settings below (num_classes=2, the
# RemapLabels step, the test set and the SaliencyWriter).
#
# Schedule: 6k iterations at 4 GPUs x 4 images (9 epochs of the 10,582
# images, PoolNet's epoch count), the stock SGD recipe otherwise.
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-20k_voc12aug-512x512.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
data_root = 'data/VOCdevkit/VOC2012'
# tools/make_pseudo_saliency.py output, relative to data_root or absolute:
#   --cfg-options train_dataloader.dataset.data_prefix.seg_map_path=DIR
pseudo_saliency_dir = 'SaliencyPseudo'
crop_size = (512, 512)
max_iters = 6000
saliency_metainfo = dict(
    classes=('background', 'salient'), palette=[[0, 0, 0], [255, 255, 255]])
data_splits = dict(
    train_aug='ImageSets/Segmentation/train_aug.txt',
    train='ImageSets/Segmentation/train.txt',
    val='ImageSets/Segmentation/val.txt')

model = dict(
    # ImageNet ResNet-50-V1c, the file behind open-mmlab://resnet50_v1c
    # (download.openmmlab.com/pretrain/third_party/resnet50_v1c-2cccc1ad.pth),
    # read locally.
    pretrained='data/pretrained/resnet50_v1c-2cccc1ad.pth',
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # salient pixels are stored as 255 (MMSeg's ignore value): make them 1
    dict(type='mmwsss.RemapLabels', mapping={255: 1}),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        metainfo=saliency_metainfo,
        data_root=data_root,
        ann_file=data_splits['train_aug'],
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path=pseudo_saliency_dir),
        pipeline=train_pipeline))
# Inference set: images only (no masks), named splits via data_splits.
# `img_id` (set by mmwsss data sets, e.g. COCO's 12-digit ids) names the
# written maps; without it the image file name does.
pack_meta_keys = ('img_path', 'img_id', 'ori_shape', 'img_shape',
                  'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                  'reduce_zero_label')
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='PackSegInputs', meta_keys=pack_meta_keys),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        metainfo=saliency_metainfo,
        data_root=data_root,
        ann_file=data_splits['train_aug'],
        data_prefix=dict(img_path='JPEGImages', seg_map_path=''),
        pipeline=test_pipeline))
test_evaluator = dict(
    _delete_=True,
    type='mmwsss.SaliencyWriter',
    out_dir='work_dirs/saliency_refine_deeplabv3plus_r50_voc/saliency')
# No validation: the pseudo-masks are the only labels (score the written
# maps with tools/eval_saliency.py).
val_dataloader = None
val_evaluator = None
val_cfg = None
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=2000,
        max_keep_ckpts=1, save_last=True))
