# ResNeSt-269 at output stride 16 - the backbone of every P-NOC stage - and
# its data preprocessor: the parts the model bases (cam_, c2am_,
# affinitynet_, pnoc_resnest269.py) assemble. timm's `resnest269e` has the
# layout of the official `resnest269-0cc87c48.pth` (ImageNet weights, read
# from the local path below; nothing is downloaded).
resnest269_weights = 'data/pretrained/resnest269-0cc87c48.pth'
resnest269_backbone = dict(
    type='TIMMBackbone',
    model_name='resnest269e',
    features_only=True,
    pretrained=False,
    output_stride=16,
    out_indices=(4, ))
resnest269_channels = 2048  # layer4
# `size`: training batches are stacked at the crop size (configs set it).
resnest_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size=(512, 512),
    pad_val=0,
    seg_pad_val=255)
# TTA CAM inference of the reference: 4 scales x flip, at the backbone's
# stride; full-resolution CAM cells centred on their 16-px blocks (the
# stride-4 CAMs of CAM classifiers: test_cfg.coarse_align, by default the
# reference's plain resize).
cam_test_cfg = dict(
    scales=(1.0, 0.5, 1.5, 2.0), flip=True, stride=16, align='center')
