# AffinityNet schedule (P-NOC spec §8.4): SGD lr 0.1 without momentum,
# wd 1e-4, poly 0.9 per iteration, 3 epochs, one parameter group. Only the
# trainable (edge) parameters enter the optimizer: the constructor skips the
# frozen backbone, and the multipliers of 1 keep a single lr / wd for all.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4),
    constructor='PretrainedScratchOptimWrapperConstructor',
    paramwise_cfg=dict(
        pretrained_prefixes=('backbone.', ),
        scratch_lr_mult=1.0,
        bias_lr_mult=1.0,
        bias_decay_mult=1.0))
max_epochs = 3
param_scheduler = [
    dict(
        type='PolyLR',
        power=0.9,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
test_cfg = dict(type='TestLoop')
