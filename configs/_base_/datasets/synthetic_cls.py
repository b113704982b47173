# The embedded synthetic set in VOC layout (tools/generate_synthetic.py),
# used by the demo and the tests. Small images (64-96 px).
dataset_type = 'VOCClsDataset'
data_root = 'data/synthetic'
crop_size = (64, 64)
synthetic_metainfo = dict(
    classes=('background', 'kite', 'boat', 'cup', 'leaf', 'star', 'fish'),
    palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0],
             [0, 0, 128], [128, 0, 128], [0, 128, 128]])
data_splits = dict(
    train_aug='ImageSets/Segmentation/train_aug.txt',
    train='ImageSets/Segmentation/train.txt',
    val='ImageSets/Segmentation/val.txt',
)
data_prefix = dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug')

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizeLongSide', min_size=56, max_size=96),
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
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=synthetic_metainfo,
        ann_file=data_splits['train_aug'],
        data_prefix=data_prefix,
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=synthetic_metainfo,
        ann_file=data_splits['train'],
        data_prefix=data_prefix,
        pipeline=test_pipeline))
test_evaluator = dict(type='CAMIoUMetric', threshold=0.25)
