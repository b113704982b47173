# The slim ResNet-18 (16 base channels, 128 output channels) of the demo and
# the tests, at output stride 16, and its data preprocessor.
tiny_backbone = dict(
    type='ResNet',
    _scope_='mmpretrain',
    depth=18,
    stem_channels=16,
    base_channels=16,
    strides=(1, 2, 2, 1),
    dilations=(1, 1, 1, 2),
    out_indices=(3, ))
tiny_in_channels = 128
tiny_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size=(64, 64),
    pad_val=0,
    seg_pad_val=255)
# 'corner' alignment: on 64-96 px images the reference's half-cell offset
# (8 px at stride 16) costs ~5 mIoU points (see README, "The demo").
tiny_test_cfg = dict(
    scales=(1.0, 0.5, 1.5, 2.0), flip=True, stride=16, align='corner')
# CAM classifiers also keep stride-4 CAMs: 'corner' there too
tiny_cam_test_cfg = dict(tiny_test_cfg, coarse_align='corner')
