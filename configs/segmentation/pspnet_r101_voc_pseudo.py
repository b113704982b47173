# Any stock MMSeg VOC config trains on pseudo-masks with one change: its
# train set becomes MMSeg's PascalVOCDataset over train_aug with the
# pseudo-mask folder as seg_map_path. Here PSPNet R101-D8 (4 GPUs x 4, 20k
# iterations, stock recipe); val/test stay on the true val masks.
_base_ = ['mmseg::pspnet/pspnet_r101-d8_4xb4-20k_voc12aug-512x512.py']
# open-mmlab://resnet101_v1c, read locally (see deeplabv3plus_r101_voc_pseudo)
model = dict(pretrained='data/pretrained/resnet101_v1c-e67eebb6.pth')

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PascalVOCDataset',
        data_root='data/VOCdevkit/VOC2012',
        ann_file='ImageSets/Segmentation/train_aug.txt',
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClassPseudo'),
        pipeline={{_base_.train_pipeline}}))
