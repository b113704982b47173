# ICD (Fan et al., CVPR 2020) on DeepLab's VGG16 at output stride 8 (spec
# §3.2): the reference's input (BGR -> RGB, minus 127, no std scaling) and
# its weights, DeepLab's "VGG16 20M" ImageNet init (vgg16_20M.params)
# converted to a torch state dict with the layer names (conv1_1.weight ...
# fc7.bias).
vgg16_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[127.0, 127.0, 127.0],
    std=[1.0, 1.0, 1.0],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
vgg16_weights = 'data/pretrained/vgg16_20M.pth'
# The reference's inference: one 513x513 pass (padded with the mean colour
# at the bottom / right), no flip; the 65x65 maps resized bilinearly to the
# canvas and cropped to the image ('resize' on the padded canvas).
icd_test_cfg = dict(
    scales=(1.0, ),
    flip=False,
    stride=8,
    align='resize',
    coarse_align='resize',
    pad_to=513,
    maps='td')
model = dict(
    type='ICD',
    data_preprocessor=vgg16_preprocessor,
    backbone=dict(type='DeepLabVGG16'),
    num_classes=20,
    in_channels=1024,
    feat_channels=512,
    pretrained=vgg16_weights,
    bu_scale=10.0,
    sign_momentum=0.9,
    td_threshold=0.2,
    warmup_epochs=2,
    test_cfg=icd_test_cfg)
