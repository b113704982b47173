# Tiny P-OC (Puzzle-CAM + OC-CSE against the frozen vanilla classifier) on
# the synthetic set: pnoc_tiny_synthetic.py with one optimizer (the OC has
# no trainable parameter). The siblings puzzle_/occse_tiny_synthetic.py
# switch terms off.
_base_ = ['./pnoc_tiny_synthetic.py']
model = dict(type='POC', train_noc=False)
optim_wrapper = dict(
    _delete_=True,
    type='SumAccumOptimWrapper',
    optimizer=_base_.sgd,
    constructor='PretrainedScratchOptimWrapperConstructor',
    paramwise_cfg=dict(
        _base_.optim_wrapper.generator.paramwise_cfg,
        pretrained_prefixes=('generator.backbone.', )))
param_scheduler = [_base_.poly]
