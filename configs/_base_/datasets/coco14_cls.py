# MS COCO 2014 (81 classes: background + 80 in the standard order) with
# VOC-format masks (coco_seg_anno/{id:012d}.png, 255 = ignore).
# Layout: data/coco14/{train2014, val2014, coco_seg_anno, train2014.txt,
# val2014.txt}; the lists hold image ids, one per line.
dataset_type = 'COCO14ClsDataset'
data_root = 'data/coco14'
crop_size = (640, 640)
# A split names its list and its folders (tools: --split train|val).
data_splits = dict(
    train=dict(
        ann_file='train2014.txt',
        data_prefix=dict(img_path='train2014', seg_map_path='coco_seg_anno'),
        img_name_template='COCO_train2014_{:012d}'),
    val=dict(
        ann_file='val2014.txt',
        data_prefix=dict(img_path='val2014', seg_map_path='coco_seg_anno'),
        img_name_template='COCO_val2014_{:012d}'))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    # HEAD runner: long side 400-800, crop 640 (paper-era: 320-640 / 512).
    dict(type='RandomResizeLongSide', min_size=400, max_size=800),
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
        **data_splits['train'],
        label_source='mask',
        skip_background_only=True,
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        **data_splits['val'],
        label_source='mask',
        skip_background_only=True,
        pipeline=test_pipeline))
test_evaluator = dict(type='CAMIoUMetric', threshold=0.25)
