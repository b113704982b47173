# AffinityNet (IRN-style class-boundary network, P-NOC spec §8.3) on a frozen
# ResNeSt-269 at output stride 16. The backbone starts from ImageNet weights
# as in the reference (not from the CAM classifier): timm's `resnest269e`
# has the layout of the official `resnest269-0cc87c48.pth`; put it at the
# path below. To start from a CAM checkpoint instead set
# `model.pretrained=<ckpt>` and `model.pretrained_prefix='backbone.'`
# ('generator.backbone.' for a P-NOC checkpoint).
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
    type='AffinityNet',
    data_preprocessor=data_preprocessor,
    # The 5 stages (stem after the max-pool, layer1..4) are read from the
    # modules `maxpool`, `layer1`..`layer4`; out_indices only has to reach
    # the last stage.
    backbone=dict(
        type='TIMMBackbone',
        model_name='resnest269e',
        features_only=True,
        pretrained=False,
        output_stride=16,
        out_indices=(4, )),
    num_classes=20,
    # training affinities: pixel pairs within 10 stride-4 pixels
    radius=10,
    channels=32,
    gn_groups=4,
    pretrained='data/pretrained/resnest269-0cc87c48.pth',
    pretrained_prefix=None,
    loss=dict(type='AffinityLoss'),
    # boundary inference (tools/infer_rw.py): pad to >= 512, flip TTA
    test_cfg=dict(image_size=512, flip=True))
