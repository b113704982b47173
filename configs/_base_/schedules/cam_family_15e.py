# Single-optimizer schedule of Puzzle-CAM / OC-CSE / P-OC: the reference's
# 4 param groups over the generator only (a frozen OC has no trainable
# parameter), SGD without momentum, poly 0.9, 15 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4),
    constructor='PretrainedScratchOptimWrapperConstructor',
    paramwise_cfg=dict(
        pretrained_prefixes=('generator.backbone.', ),
        scratch_lr_mult=10.0,
        bias_lr_mult=2.0,
        bias_decay_mult=0.0))
max_epochs = 15
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
