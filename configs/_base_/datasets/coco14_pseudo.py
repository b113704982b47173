# MS COCO 2014 pseudo-masks (81 classes) for any stock MMSeg segmentor; see
# voc12_pseudo.py for how it works:
#
#   _base_ = ['mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
#             '../_base_/datasets/coco14_pseudo.py']
#   pseudo_mask_dir = 'work_dirs/pnoc_coco/pseudo_masks'
#
# Train on train2014 (82,783 images) with the pseudo-masks, validate and test
# on the true val2014 masks (coco_seg_anno/, made by
# tools/dataset_converters/coco.py). val2014 has 40,504 images: consider
# validating at the end only (train_cfg.val_interval).
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
runner_type = 'mmwsss.PseudoMaskRunner'
# {id:012d}.png pseudo-masks; relative to pseudo_data.data_root, or absolute.
pseudo_mask_dir = 'coco_seg_pseudo'
pseudo_data = dict(
    type='mmwsss.COCO14SegDataset',
    data_root='data/coco14',
    train=dict(
        ann_file='train2014.txt',
        img_name_template='COCO_train2014_{id:012d}.jpg',
        data_prefix=dict(img_path='train2014')),
    val=dict(
        ann_file='val2014.txt',
        img_name_template='COCO_val2014_{id:012d}.jpg',
        data_prefix=dict(img_path='val2014', seg_map_path='coco_seg_anno')))
