# IRN's CAM schedule, also W-OoD's fine-tuning schedule (README: W-OoD):
# IRN's PolyOptimizer = SGD, lr 0.1 for the backbone and x10 for the head,
# weight decay 1e-4 on every trainable parameter (biases and BN included,
# no bias multiplier), poly 0.9 per iteration, 5 epochs.
# Momentum: the official PolyOptimizer passes the weight decay where SGD
# takes its momentum, so the official runs have momentum 1e-4 (in effect
# none); its `momentum=0.9` attribute is the poly power. The default
# reproduces the official code; `optim_wrapper.optimizer.momentum=0.9` is
# the switch to the momentum the code seems to intend.
_base_ = ['./cam_15e.py']
optim_wrapper = dict(
    optimizer=dict(lr=0.1, momentum=1e-4, weight_decay=1e-4),
    paramwise_cfg=dict(bias_lr_mult=1.0, bias_decay_mult=1.0))
max_epochs = 5
param_scheduler = [dict(_base_.poly, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
