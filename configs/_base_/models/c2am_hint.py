# The C²AM-H hint loss (README: C²AM, HEAD runner): BCE on the
# disentangler logits where the max-over-classes CAM hint is >= δ_fg
# (`fg_threshold`), target 1 smoothed to 0.95, weight 1. Code vs paper:
# reduction 'mean' over the hinted pixels and an inclusive threshold (>=)
# are the code's; the paper sums over pixels with hint > δ_fg. C²AM-H
# configs set `model.hint=dict(_base_.c2am_hint, _delete_=True)`.
c2am_hint = dict(
    fg_threshold=0.4,
    loss_weight=1.0,
    label_smoothing=0.1,
    reduction='mean',
    inclusive=True,
    resize_mode='bicubic')
