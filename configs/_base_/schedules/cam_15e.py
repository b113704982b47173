# Reference CAM schedule (README: recipes): SGD without momentum,
# lr 0.1 for pretrained weights, x2 for biases/BN beta (no decay), x10 for
# the new head; wd 1e-4; poly 0.9 decay per iteration; 15 epochs.
# (mmengine's PolyLR reaches 0 at the last iteration; the reference's poly
# stops one step earlier, at (1/N)^0.9 of the base lr: a negligible shift.)
# With accumulative_counts > 1 the micro-batch gradients are summed, as in
# the reference CAM / C²AM scripts (SumAccumOptimWrapper; 'OptimWrapper'
# averages them, mmengine's convention).
optim_wrapper = dict(
    type='SumAccumOptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4),
    constructor='PretrainedScratchOptimWrapperConstructor',
    paramwise_cfg=dict(
        pretrained_prefixes=('backbone.', ),
        scratch_lr_mult=10.0,
        bias_lr_mult=2.0,
        bias_decay_mult=0.0))
max_epochs = 15
# Schedules of other lengths: [dict(_base_.poly, end=max_epochs)].
poly = dict(
    type='PolyLR',
    power=0.9,
    eta_min=0.0,
    by_epoch=True,
    begin=0,
    end=max_epochs,
    convert_to_iter_based=True)
param_scheduler = [poly]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
test_cfg = dict(type='TestLoop')
