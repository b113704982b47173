# DeepLabV3+ (stock MMSeg, ResNet-101-D8) on MS COCO 2014, 81 classes
# (background + 80), trained on WSSS pseudo-masks of train2014 (82,783
# images), validated on the true val2014 masks. The VOC recipe with COCO's
# values: lr 0.004, crop 640 from a 400-800 long side; 8 GPUs x 4 images,
# 40k iterations (15.5 epochs). MMSeg has no 81-class COCO data set
# (COCO-Stuff is 171/182 classes): mmwsss's COCO14SegDataset is.
_base_ = ['./deeplabv3plus_r101_voc_pseudo.py']
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)

dataset_type = 'mmwsss.COCO14SegDataset'
data_root = 'data/coco14'
# {id:012d}.png pseudo-masks from tools/make_pseudo_masks.py on COCO CAMs;
# relative to data_root, or absolute.
pseudo_mask_dir = 'coco_seg_pseudo'
crop_size = (640, 640)
max_iters = 40000
num_classes = 81

model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # long side 400-800
    dict(
        type='RandomResize',
        scale=(800, 800),
        ratio_range=(0.5, 1.0),
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
        type=dataset_type,
        data_root=data_root,
        ann_file='train2014.txt',
        img_name_template='COCO_train2014_{id:012d}.jpg',
        data_prefix=dict(img_path='train2014', seg_map_path=pseudo_mask_dir),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        ann_file='val2014.txt',
        img_name_template='COCO_val2014_{id:012d}.jpg',
        data_prefix=dict(img_path='val2014', seg_map_path='coco_seg_anno'),
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=0.004))
param_scheduler = [dict(_base_.poly, end=max_iters)]
# val2014 has 40,504 images: validate at the end only.
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=5000))
