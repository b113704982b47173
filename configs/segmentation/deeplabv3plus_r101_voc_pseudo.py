# DeepLabV3+ (stock MMSeg, ResNet-101-D8) on Pascal VOC 2012 train_aug
# (10,582 images) trained on WSSS pseudo-masks, validated on the true val
# masks. 8 GPUs x 4 images = batch 32 (the P-NOC recipe's), 5k iterations
# (15.1 epochs of train_aug). Reference values mapped onto stock MMSeg: crop
# 512 from a 320-640 long side, SGD Nesterov lr 0.007 (heads x10), wd 4e-5,
# poly 0.9 to 0; TTA 0.5-2 x flip. Kept stock: OS8, SyncBN (not GroupNorm),
# the FCN auxiliary head (weight 0.4), PhotoMetricDistortion. The loss is
# the reference's cross-entropy with label smoothing 0.1 (mmseg 1.2.2's
# CrossEntropyLoss has none: mmwsss.LabelSmoothCrossEntropyLoss; set
# label_smoothing=0.0 for plain cross-entropy).
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-20k_voc12aug-512x512.py'
]
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
data_root = 'data/VOCdevkit/VOC2012'
# Pseudo-mask PNGs {img_id}.png (class ids, 255 = ignore) written by
# tools/make_pseudo_masks.py; relative to data_root, or absolute. Switch
# masks with one option:
#   --cfg-options train_dataloader.dataset.data_prefix.seg_map_path=DIR
pseudo_mask_dir = 'SegmentationClassPseudo'
crop_size = (512, 512)
max_iters = 5000

seg_loss = dict(type='mmwsss.LabelSmoothCrossEntropyLoss', label_smoothing=0.1)
model = dict(
    # ImageNet ResNet-101-V1c, the file behind open-mmlab://resnet101_v1c
    # (download.openmmlab.com/pretrain/third_party/resnet101_v1c-e67eebb6.pth),
    # read locally: nothing is downloaded at run time.
    pretrained='data/pretrained/resnet101_v1c-e67eebb6.pth',
    # Mean over the labelled pixels (torch's ignore_index semantics, as the
    # reference): pseudo-masks leave many pixels at 255.
    decode_head=dict(
        loss_decode=dict(seg_loss, _delete_=True, loss_weight=1.0)),
    auxiliary_head=dict(
        loss_decode=dict(seg_loss, _delete_=True, loss_weight=0.4)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # long side 320-640: fit into 640r x 640r, r in [0.5, 1]
    dict(
        type='RandomResize',
        scale=(640, 640),
        ratio_range=(0.5, 1.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs'),
]
# The one change any stock VOC config needs: MMSeg's own PascalVOCDataset
# over the train_aug list, masks read from the pseudo-mask folder.
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        _delete_=True,
        type='PascalVOCDataset',
        data_root=data_root,
        ann_file='ImageSets/Segmentation/train_aug.txt',
        data_prefix=dict(img_path='JPEGImages', seg_map_path=pseudo_mask_dir),
        pipeline=train_pipeline))
# val/test: stock (val.txt, true SegmentationClass masks, IoUMetric).

optim_wrapper = dict(
    optimizer=dict(lr=0.007, momentum=0.9, weight_decay=4e-5, nesterov=True),
    # new layers learn 10x faster than the pretrained backbone
    paramwise_cfg=dict(
        custom_keys=dict(
            decode_head=dict(lr_mult=10.), auxiliary_head=dict(lr_mult=10.))))
# Other lengths: [dict(_base_.poly, end=max_iters)].
poly = dict(
    type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters,
    by_epoch=False)
param_scheduler = [poly]
train_cfg = dict(max_iters=max_iters, val_interval=1000)
default_hooks = dict(
    checkpoint=dict(interval=1000, max_keep_ckpts=2, save_last=True))
# Before training: every pseudo-mask must hold class indices or 255, else
# stop naming the file (the loss would fail mid-run naming none).
custom_hooks = [dict(type='mmwsss.CheckSegLabelsHook')]

# tools/test.py --tta: scales 0.5-2 x flip, softmax averaged (SegTTAModel).
img_ratios = [0.5, 1.0, 1.5, 2.0]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadAnnotations')],
            [dict(type='PackSegInputs')],
        ])
]
