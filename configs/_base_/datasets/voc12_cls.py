# Pascal VOC 2012 + SBD ("aug") for CAM training and CAM inference.
# Layout: data/VOCdevkit/VOC2012/{JPEGImages, SegmentationClassAug,
# Annotations, ImageSets/Segmentation/{train_aug,train,val}.txt}.
dataset_type = 'VOCClsDataset'
data_root = 'data/VOCdevkit/VOC2012'
crop_size = (512, 512)
# Named splits (tools/infer_cams.py --split NAME).
data_splits = dict(
    train_aug='ImageSets/Segmentation/train_aug.txt',
    train='ImageSets/Segmentation/train.txt',
    val='ImageSets/Segmentation/val.txt',
)
data_prefix = dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug')

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizeLongSide', min_size=320, max_size=640),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCropPad', crop_size=crop_size),
    dict(type='PackWSSSInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadOptionalAnnotations'),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=data_splits['train_aug'],
        data_prefix=data_prefix,
        label_source='mask',
        skip_background_only=True,
        pipeline=train_pipeline))
# CAM inference / priors evaluation: VOC train (1,464), as the papers.
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=data_splits['train'],
        data_prefix=data_prefix,
        label_source='mask',
        skip_background_only=True,
        pipeline=test_pipeline))
# Best background threshold swept against GT (papers' protocol) and a fixed
# declared one; see README "Evaluating CAMs".
test_evaluator = dict(type='CAMIoUMetric', threshold=0.25)
