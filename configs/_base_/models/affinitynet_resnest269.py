# AffinityNet (IRN-style class-boundary network; README: random walk) on
# a frozen
# ResNeSt-269 at output stride 16. The backbone starts from ImageNet weights
# as in the reference (not from the CAM classifier; see resnest269.py). To
# start from a CAM checkpoint instead set `model.pretrained=<ckpt>` and
# `model.pretrained_prefix='backbone.'` ('generator.backbone.' for a P-NOC
# checkpoint).
_base_ = ['./resnest269.py']
model = dict(
    type='AffinityNet',
    data_preprocessor=_base_.resnest_preprocessor,
    # The 5 stages (stem after the max-pool, layer1..4) are read from the
    # modules `maxpool`, `layer1`..`layer4`; out_indices only has to reach
    # the last stage.
    backbone=_base_.resnest269_backbone,
    num_classes=20,
    # training affinities: pixel pairs within 10 stride-4 pixels
    radius=10,
    channels=32,
    gn_groups=4,
    pretrained=_base_.resnest269_weights,
    pretrained_prefix=None,
    loss=dict(type='AffinityLoss'),
    # boundary inference (tools/infer_rw.py): pad to >= 512, flip TTA;
    # random walk: beta 10, 2^8 steps, radius 5, started from CAMs·(1-edge),
    # one max over all classes (the reference)
    test_cfg=dict(image_size=512, flip=True, beta=10, exp_times=8, radius=5,
                  method='sparse', normalize='global', damp_edges=True))
