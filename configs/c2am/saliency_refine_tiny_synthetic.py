# The saliency refinement (saliency_refine_deeplabv3plus_r50_voc.py) scaled
# down to the synthetic set: the tiny DeepLabV3+ of
# configs/segmentation/deeplabv3plus_tiny_synthetic.py with 2 classes,
# trained on the demo's pseudo-saliency masks, inferred on train_aug.
# 90 iterations of batch 16 = 6 epochs of the 240 train_aug images
# (PoolNet's epoch count), ~50 s on 2 CPU cores.
_base_ = ['../segmentation/deeplabv3plus_tiny_synthetic.py']
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
data_root = 'data/synthetic'
pseudo_saliency_dir = 'SaliencyPseudo'
crop_size = (64, 64)
max_iters = 90
saliency_metainfo = dict(
    classes=('background', 'salient'), palette=[[0, 0, 0], [255, 255, 255]])
data_splits = dict(
    train_aug='ImageSets/Segmentation/train_aug.txt',
    train='ImageSets/Segmentation/train.txt',
    val='ImageSets/Segmentation/val.txt')

# the stock cross-entropy of the saliency refinement (mean over labelled
# pixels), not the final segmentation's label-smoothed one
stock_ce = dict(
    type='CrossEntropyLoss', use_sigmoid=False, avg_non_ignore=True)
model = dict(
    decode_head=dict(
        num_classes=2,
        loss_decode=dict(stock_ce, _delete_=True, loss_weight=1.0)),
    auxiliary_head=dict(
        num_classes=2,
        loss_decode=dict(stock_ce, _delete_=True, loss_weight=0.4)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='mmwsss.RemapLabels', mapping={255: 1}),
    dict(
        type='RandomResize',
        scale=(96, 96),
        ratio_range=(0.6, 1.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='BaseSegDataset',
        metainfo=saliency_metainfo,
        data_root=data_root,
        ann_file=data_splits['train_aug'],
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path=pseudo_saliency_dir),
        pipeline=train_pipeline))
test_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='BaseSegDataset',
        metainfo=saliency_metainfo,
        data_root=data_root,
        ann_file=data_splits['train_aug'],
        data_prefix=dict(img_path='JPEGImages', seg_map_path=''),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(
                type='PackSegInputs',
                meta_keys=('img_path', 'img_id', 'ori_shape', 'img_shape',
                           'pad_shape', 'scale_factor', 'flip',
                           'flip_direction', 'reduce_zero_label'))
        ]))
test_evaluator = dict(
    _delete_=True,
    type='mmwsss.SaliencyWriter',
    out_dir='work_dirs/saliency_refine_tiny_synthetic/saliency')
val_dataloader = None
val_evaluator = None
val_cfg = None
param_scheduler = [dict(_base_.poly, end=max_iters)]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
