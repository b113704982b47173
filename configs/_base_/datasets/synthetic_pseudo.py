# Pseudo-masks of the embedded synthetic set (tools/generate_synthetic.py,
# 7 classes) for any stock MMSeg segmentor; see voc12_pseudo.py for how it
# works. MMSeg's PascalVOCDataset only accepts VOC class names, so this is
# stock BaseSegDataset with the synthetic metainfo. The stock pipelines are
# kept: they resize these 64-96 px images to the segmentor's scale (512 px
# for most), so for quick CPU runs also shrink the crop (see README
# "Training any MMSeg segmentor on the pseudo-masks").
custom_imports = dict(imports=['mmwsss'], allow_failed_imports=False)
runner_type = 'mmwsss.PseudoMaskRunner'
pseudo_mask_dir = 'SegmentationClassPseudo'
pseudo_data = dict(
    type='BaseSegDataset',
    data_root='data/synthetic',
    metainfo=dict(
        classes=('background', 'kite', 'boat', 'cup', 'leaf', 'star',
                 'fish'),
        palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0],
                 [0, 0, 128], [128, 0, 128], [0, 128, 128]]),
    train=dict(
        ann_file='ImageSets/Segmentation/train_aug.txt',
        data_prefix=dict(img_path='JPEGImages')),
    val=dict(
        ann_file='ImageSets/Segmentation/val.txt',
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass')))
