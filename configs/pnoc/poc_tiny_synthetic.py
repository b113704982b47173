# Tiny P-OC (Puzzle-CAM + OC-CSE against the frozen vanilla classifier) on
# the synthetic set: pnoc_tiny_synthetic.py with the second classifier as
# the frozen ordinary classifier `oc` (instead of the trained `noc`) and one
# optimizer (the OC has no trainable parameter). The siblings
# puzzle_/occse_tiny_synthetic.py use the other presets.
_base_ = ['./pnoc_tiny_synthetic.py']
model = dict(
    type='POC',
    noc=None,
    noc_checkpoint=None,
    oc=dict(_base_.classifier, freeze_bn=True),
    oc_checkpoint=_base_.vanilla_checkpoint)  # the demo's vanilla run
optim_wrapper = dict(
    _delete_=True,
    type='SumAccumOptimWrapper',
    optimizer=_base_.sgd,
    constructor='PretrainedScratchOptimWrapperConstructor',
    paramwise_cfg=dict(
        _base_.optim_wrapper.generator.paramwise_cfg,
        pretrained_prefixes=('generator.backbone.', )))
param_scheduler = [_base_.poly]
