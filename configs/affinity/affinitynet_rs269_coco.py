# AffinityNet on MS COCO 2014 train, ResNeSt-269: the VOC recipe
# (affinitynet_rs269_voc.py) with the COCO sizes of the HEAD runners (crop
# 640 from a 400-800 long side; boundary inference padded to 640); lr 0.1,
# as 3-rw.sh passes it for both data sets.
# Image-level labels (to skip background-only images, IGNORE_BG_IMAGES) come
# from `cls_labels_coco.npy` in data_root, as the reference.
# Labels folder: `label_dir` relative to data_root or absolute; or
#   --cfg-options train_dataloader.dataset.data_prefix.seg_map_path=DIR
_base_ = [
    '../_base_/models/affinitynet_resnest269.py',
    '../_base_/datasets/coco14_cls.py',
    '../_base_/datasets/rw_cams.py',
    '../_base_/schedules/affinity_3e.py',
    '../_base_/default_runtime.py',
]
label_dir = 'coco_seg_affinity'
crop_size = (640, 640)
model = dict(
    data_preprocessor=dict(size=crop_size),
    num_classes=80,
    test_cfg=dict(image_size=640))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadOptionalAnnotations'),
    dict(type='RandomResizeLongSide', min_size=400, max_size=800),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCropPad', crop_size=crop_size, seg_pad_val=255),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        data_prefix=dict(img_path='train2014', seg_map_path=label_dir),
        label_source='npy',
        cls_labels_file='cls_labels_coco.npy',
        skip_background_only=True,
        pipeline=train_pipeline))
# Random walk (tools/infer_rw.py; README: random walk) of the stored CAMs
# of the
# test_dataloader's images (val2014 by default; --split train|val).
# Settings: model.test_cfg (the reference's: beta 10, 2^8 steps, radius 5;
# see the base model config).
test_dataloader = dict(dataset=dict(pipeline=_base_.rw_test_pipeline))
test_evaluator = dict(_base_.rw_test_evaluator, _delete_=True)
