# W-OoD's out-of-distribution images for the synthetic set
# (`tools/generate_synthetic.py data/synthetic --num-ood N` writes them to
# data/synthetic/OoD): the OoD data set (tools/woods_centres.py reads
# `ood_dataset`, with the test pipeline) and the dataloader an OoDBatchHook
# draws one batch from per training step (the in-distribution train
# pipeline, its own batch size and sampler). Both hold their own copy of
# the data set: override `ood_dataset.data_root` and
# `ood_dataloader.dataset.data_root` together.
_base_ = ['./synthetic_cls.py']
ood_data_root = 'data/synthetic/OoD'
ood_dataset = dict(
    type='OoDDataset',
    data_root=ood_data_root,
    ann_file='ood_list.txt',
    data_prefix=dict(img_path='JPEGImages'),
    metainfo=_base_.synthetic_metainfo,
    pipeline=_base_.train_pipeline)
ood_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=ood_dataset)
