# CAM classifier on ResNeSt-269 at output stride 16 (P-NOC's headline
# backbone). timm's `resnest269e` has the layout of the official
# `resnest269-0cc87c48.pth` (the file P-NOC loads): put it at the path below.
norm_mean = [123.675, 116.28, 103.53]
norm_std = [58.395, 57.12, 57.375]
# `size`: training batches are stacked at the crop size (configs set it).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=norm_mean,
    std=norm_std,
    bgr_to_rgb=True,
    size=(512, 512),
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='CAMClassifier',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='TIMMBackbone',
        model_name='resnest269e',
        features_only=True,
        pretrained=False,
        output_stride=16,
        out_indices=(4, )),
    num_classes=20,
    in_channels=2048,
    pretrained='data/pretrained/resnest269-0cc87c48.pth',
    loss=dict(type='MultiLabelSoftMarginLoss', label_smoothing=0.1),
    test_cfg=dict(
        scales=(1.0, 0.5, 1.5, 2.0), flip=True, stride=16, align='center'))
