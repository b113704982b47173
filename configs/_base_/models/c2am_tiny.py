# C²AM on the slim ResNet-18 of the demo (configs/_base_/models/cam_tiny.py):
# layer4 (128 ch) and layer3 (64 ch) at output stride 16.
_base_ = ['./cam_tiny.py']
model = dict(
    type='C2AM',
    data_preprocessor=_base_.tiny_preprocessor,
    backbone=dict(_base_.tiny_backbone, out_indices=(2, 3)),
    in_channels=192,
    feature_indices=(-1, -2),
    loss_pos=dict(type='SimMaxLoss', alpha=0.25, average='code'),
    loss_neg=dict(type='SimMinLoss'),
    hint=None,
    gather_batch=True,
    pretrained=None,
    test_cfg=_base_.tiny_test_cfg)
