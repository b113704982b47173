# C²AM on ResNeSt-269 (P-NOC spec §6.1): layer4 (2048 ch) and layer3
# (1024 ch) of the output-stride-16 backbone, concatenated, feed a 3x3 conv +
# BN disentangler. `hint=None` is plain C²AM; the C²AM-H configs set it.
# timm's `resnest269e` has the layout of the official
# `resnest269-0cc87c48.pth` (ImageNet weights, read from the local path).
norm_mean = [123.675, 116.28, 103.53]
norm_std = [58.395, 57.12, 57.375]
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=norm_mean,
    std=norm_std,
    bgr_to_rgb=True,
    size=(448, 448),
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='C2AM',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='TIMMBackbone',
        model_name='resnest269e',
        features_only=True,
        pretrained=False,
        output_stride=16,
        out_indices=(3, 4)),
    in_channels=3072,
    feature_indices=(-1, -2),  # cat([layer4, layer3]) as the reference
    # average='code': mean over all N^2 pairs incl. the diagonal (official
    # code); 'paper': mean over the N(N-1) pairs i != j.
    loss_pos=dict(type='SimMaxLoss', alpha=0.25, average='code'),
    loss_neg=dict(type='SimMinLoss'),
    hint=None,
    # contrastive terms over the batch of all GPUs (the reference ran
    # DataParallel over the full batch)
    gather_batch=True,
    accumulation='sum',
    pretrained='data/pretrained/resnest269-0cc87c48.pth',
    test_cfg=dict(
        scales=(1.0, 0.5, 1.5, 2.0), flip=True, stride=16, align='center'))
