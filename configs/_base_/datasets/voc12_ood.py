# W-OoD's out-of-distribution images for VOC: the reference's OpenImages
# set (README's Google Drive zip) unpacked to
# data/WOoD_dataset/openimages/OoD_images, listed in ood_list.txt next to
# that folder, one file name per line (`cd data/WOoD_dataset/openimages &&
# ls OoD_images > ood_list.txt`; the reference does not ship the list).
# `ood_dataset` is read by tools/woods_centres.py (with the test pipeline;
# the reference resizes OoD images to a long side of 500, --ood-long-side
# 500); `ood_dataloader` feeds an OoDBatchHook (16 OoD images per step with
# the in-distribution augmentation, as the reference). Override
# `ood_dataset.data_root` and `ood_dataloader.dataset.data_root` together.
_base_ = ['./voc12_cls.py']
ood_data_root = 'data/WOoD_dataset/openimages'
ood_dataset = dict(
    type='OoDDataset',
    data_root=ood_data_root,
    ann_file='ood_list.txt',
    data_prefix=dict(img_path='OoD_images'),
    num_classes=20,
    pipeline=_base_.train_pipeline)
ood_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=ood_dataset)
