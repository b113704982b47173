# Pascal VOC 2012 pseudo-masks for any stock MMSeg segmentor: inherit it
# next to the segmentor's own config and name the pseudo-mask folder:
#
#   _base_ = ['mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
#             '../_base_/datasets/voc12_pseudo.py']
#   pseudo_mask_dir = 'work_dirs/pnoc_voc/pseudo_masks'
#
# The stock config already has train_dataloader, model, ..., and mmengine
# forbids a key in two bases, so the data lives under keys of its own and
# PseudoMaskRunner applies it when the runner is built
# (mmwsss.engine.apply_pseudo_data): every loader keeps its sampler, batch
# size and the segmentor's pipeline, its dataset becomes the one below;
# LoadAnnotations keeps label 0; num_classes of every decode/auxiliary head
# becomes the data set's (21). Train on train_aug (10,582 images) with the
# pseudo-masks, validate and test on the true val masks.
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
runner_type = 'mmwsss.PseudoMaskRunner'
# {img_id}.png (class ids, 255 = ignore) from tools/make_pseudo_masks.py;
# relative to pseudo_data.data_root, or absolute.
pseudo_mask_dir = 'SegmentationClassPseudo'
pseudo_data = dict(
    # shared by all splits; e.g. `pseudo_data = dict(data_root='/data/VOC2012')`
    type='PascalVOCDataset',
    data_root='data/VOCdevkit/VOC2012',
    train=dict(
        ann_file='ImageSets/Segmentation/train_aug.txt',
        data_prefix=dict(img_path='JPEGImages')),
    val=dict(
        ann_file='ImageSets/Segmentation/val.txt',
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass')))
