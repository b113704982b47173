# C²AM on ResNeSt-269 (README: C²AM): layer4 (2048 ch) and layer3
# (1024 ch) of the output-stride-16 backbone, concatenated, feed a 3x3 conv +
# BN disentangler. `hint=None` is plain C²AM; the C²AM-H configs set it.
# ImageNet weights as the CAM classifier (see resnest269.py).
_base_ = ['./resnest269.py']
model = dict(
    type='C2AM',
    data_preprocessor=dict(_base_.resnest_preprocessor, size=(448, 448)),
    backbone=dict(_base_.resnest269_backbone, out_indices=(3, 4)),
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
    pretrained=_base_.resnest269_weights,
    test_cfg=_base_.cam_test_cfg)
