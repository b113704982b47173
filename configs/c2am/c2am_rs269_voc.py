# C²AM (no hints) with ResNeSt-269 on VOC 2012 train_aug: the HEAD runner's
# saliency recipe (README: C²AM): crop 448 from a 515x515 resize,
# flip, batch 64 x accumulation 2 (gradients summed), SGD lr 0.001 (head
# x10), wd 1e-4, poly, 10 epochs; validated each epoch on VOC val as binary
# saliency (threshold swept 0.05-0.50). Which partition is the foreground is
# decided by the border rule (model.test_cfg.polarity='auto').
_base_ = [
    '../_base_/models/c2am_resnest269.py',
    '../_base_/datasets/voc12_cls.py',
    '../_base_/schedules/c2am_10e.py',
    '../_base_/default_runtime.py',
]
crop_size = (448, 448)
# HEAD: a 515x515 square resize (aspect not kept) then a random 448 crop.
# Paper-era code: shorter side 512 (aspect kept, hints nearest) - use
# dict(type='Resize', scale=(100000, 512), keep_ratio=True) instead.
resize = dict(type='FixedResize', size=(515, 515), interpolation='bilinear')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    resize,
    dict(type='RandomCropPad', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))

# Binary saliency on VOC val (any class = salient), as the reference's
# per-epoch validation.
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RemapLabels', binarize=True),
    dict(type='PackWSSSInputs'),
]
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        ann_file={{_base_.data_splits.val}},
        data_prefix={{_base_.data_prefix}},
        label_source='mask',
        skip_background_only=False,
        pipeline=val_pipeline))
val_evaluator = dict(
    type='CAMIoUMetric',
    num_classes=2,
    thresholds=[0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5],
    prefix='saliency')
val_cfg = dict(type='ValLoop')
train_cfg = dict(val_interval=1)
# Saliency inference (tools/infer_saliency.py --split train_aug) uses
# test_dataloader with the named splits of the data config.
