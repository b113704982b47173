# P-NOC schedule (spec §3.5, HEAD runner): two SGD optimizers (generator,
# noc) without momentum, lr 0.1 (pretrained) / x10 new layers / x2 biases,
# wd 1e-4, accumulation 2 (gradients summed, see model.accumulation),
# poly 0.9 per network, 15 epochs.
param_groups = dict(
    pretrained_prefixes=('backbone.', ),
    scratch_lr_mult=10.0,
    bias_lr_mult=2.0,
    bias_decay_mult=0.0)
optim_wrapper = dict(
    constructor='MultiNetOptimWrapperConstructor',
    generator=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4),
        accumulative_counts=2,
        paramwise_cfg=param_groups),
    noc=dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4),
        accumulative_counts=2,
        paramwise_cfg=param_groups))
max_epochs = 15
poly = dict(
    type='PolyLR',
    power=0.9,
    eta_min=0.0,
    by_epoch=True,
    begin=0,
    end=max_epochs,
    convert_to_iter_based=True)
param_scheduler = dict(generator=[poly], noc=[poly])
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
test_cfg = dict(type='TestLoop')
