# ICD's schedule (README: ICD; the reference's values): SGD lr 1e-3,
# momentum 0.9, wd 5e-4 on weights only (no decay on biases / BN), both
# heads x10, poly 0.9 stepped per epoch, 20 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(
        bias_decay_mult=0.0,
        norm_decay_mult=0.0,
        # longest key first (mmengine): the heads' biases keep no decay
        custom_keys={
            'head.bias': dict(lr_mult=10.0, decay_mult=0.0),
            'head': dict(lr_mult=10.0),
        }))
max_epochs = 20
poly = dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=0)
param_scheduler = [dict(poly, end=max_epochs)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
test_cfg = dict(type='TestLoop')
