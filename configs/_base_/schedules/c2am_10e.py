# C²AM / C²AM-H schedule (P-NOC spec §6.3, HEAD runner 2-saliency.sh): SGD
# without momentum, lr 0.001 for the pretrained backbone, x10 for the new
# disentangler (x2 more for its biases / BN beta, no decay on them), wd 1e-4,
# accumulation 2 (micro-batch gradients summed, see model.accumulation),
# poly 0.9 per iteration, 10 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001, momentum=0.0, weight_decay=1e-4),
    accumulative_counts=2,
    constructor='PretrainedScratchOptimWrapperConstructor',
    paramwise_cfg=dict(
        pretrained_prefixes=('backbone.', ),
        scratch_lr_mult=10.0,
        bias_lr_mult=2.0,
        bias_decay_mult=0.0))
max_epochs = 10
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
