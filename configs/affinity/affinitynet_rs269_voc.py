# AffinityNet on VOC 2012 train_aug, ResNeSt-269 (README: random walk, HEAD
# runner 3-rw.sh): 3 epochs, batch 32, SGD lr 0.1 without momentum, wd 1e-4,
# poly 0.9 per iteration, crop 512 from a 320-640 long side, flip; only the
# edge layers are optimised (the backbone is frozen).
#
# Labels: the affinity-label PNGs of tools/make_affinity_labels.py (class
# ids, 0 = background, 255 = ignore) in `label_dir`, relative to data_root
# or absolute. Switch folders with one option:
#   --cfg-options train_dataloader.dataset.data_prefix.seg_map_path=DIR
# Images without a foreground class are skipped (the reference's
# IGNORE_BG_IMAGES); the image-level labels come from the XML annotations,
# as the reference. label_source='mask' takes them from the affinity labels
# instead, which also skips images whose label kept no confident class
# (the reference trains on their background pairs).
_base_ = [
    '../_base_/models/affinitynet_resnest269.py',
    '../_base_/datasets/voc12_cls.py',
    '../_base_/datasets/rw_cams.py',
    '../_base_/schedules/affinity_3e.py',
    '../_base_/default_runtime.py',
]
label_dir = 'SegmentationClassAffinity'
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadOptionalAnnotations'),
    dict(type='RandomResizeLongSide', min_size=320, max_size=640),
    dict(type='RandomFlip', prob=0.5),
    # image padded with the mean colour (0 after normalisation), labels 255
    dict(type='RandomCropPad', crop_size=crop_size, seg_pad_val=255),
    dict(type='PackWSSSInputs'),
]
train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        data_prefix=dict(img_path='JPEGImages', seg_map_path=label_dir),
        label_source='xml',
        skip_background_only=True,
        pipeline=train_pipeline))
# Random walk (tools/infer_rw.py; README: random walk) of the stored CAMs
# of the
# test_dataloader's images (VOC train by default; --split train_aug|train|val).
# Settings: model.test_cfg (the reference's: beta 10, 2^8 steps, radius 5;
# see the base model config).
test_dataloader = dict(dataset=dict(pipeline=_base_.rw_test_pipeline))
test_evaluator = dict(_base_.rw_test_evaluator, _delete_=True)
