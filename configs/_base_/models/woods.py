# W-OoD's fine-tuning options with the reference's values (README: W-OoD):
# merged into a CAM classifier's model dict by the W-OoD configs, e.g.
# `model = dict(_base_.woods_model, init_checkpoint=...)`.
# - stage 3, stage 4 and the head are trained (the reference's optimizer
#   holds only those): conv1, bn1, layer1, layer2 frozen;
# - λ = 0.007 (metric loss), β = 0.25 (OoD loss), K = 50 OoD centres, the
#   nearest 20 % of OoD distances pushed, climb step 0.07;
# - the plain multi-label soft-margin loss, from the in-distribution
#   classifier's weights (`init_checkpoint`; no ImageNet weights).
woods_model = dict(
    type='WOoD',
    pretrained=None,
    frozen_modules=('backbone.conv1', 'backbone.bn1', 'backbone.layer1',
                    'backbone.layer2'),
    num_clusters=50,
    loss=dict(type='MultiLabelSoftMarginLoss'),
    metric_loss=dict(
        type='WOoDMetricLoss', push_fraction=0.2, loss_weight=0.007),
    ood_loss=dict(type='OoDClassificationLoss', loss_weight=0.25),
    climb_step=0.07)
