# Tiny P-OC (Puzzle-CAM + OC-CSE against the frozen vanilla classifier) on
# the synthetic set: pnoc_tiny_synthetic.py with one optimizer (the OC has
# no trainable parameter). The siblings puzzle_/occse_tiny_synthetic.py
# switch terms off.
_base_ = ['./pnoc_tiny_synthetic.py']
model = dict(type='POC', train_noc=False)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer={{_base_.sgd}},
    constructor='PretrainedScratchOptimWrapperConstructor',
    paramwise_cfg=dict(
        pretrained_prefixes=('generator.backbone.', ),
        scratch_lr_mult=10.0,
        bias_lr_mult=2.0,
        bias_decay_mult=0.0))
param_scheduler = [{{_base_.poly}}]
