# AffinityNet schedule (README: random walk): SGD lr 0.1 without momentum,
# wd 1e-4, poly 0.9 per iteration, 3 epochs, one parameter group. Only the
# trainable (edge) parameters enter the optimizer: the constructor skips the
# frozen backbone, and the multipliers of 1 keep a single lr / wd for all.
_base_ = ['./cam_15e.py']
optim_wrapper = dict(
    paramwise_cfg=dict(
        scratch_lr_mult=1.0, bias_lr_mult=1.0, bias_decay_mult=1.0))
max_epochs = 3
param_scheduler = [dict(_base_.poly, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
