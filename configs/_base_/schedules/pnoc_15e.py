# P-NOC schedule (README: P-NOC, HEAD runner): two SGD optimizers (generator,
# noc) without momentum, lr 0.1 (pretrained) / x10 new layers / x2 biases,
# wd 1e-4, accumulation 2 (gradients summed: SumAccumOptimWrapper),
# poly 0.9 per network, 15 epochs.
_base_ = ['./cam_15e.py']
# each network: the CAM schedule's SGD and parameter groups
optim_wrapper = dict(
    _delete_=True,
    constructor='MultiNetOptimWrapperConstructor',
    generator=dict(
        type='SumAccumOptimWrapper',
        optimizer=_base_.optim_wrapper.optimizer,
        accumulative_counts=2,
        paramwise_cfg=_base_.optim_wrapper.paramwise_cfg),
    noc=dict(
        type='SumAccumOptimWrapper',
        optimizer=_base_.optim_wrapper.optimizer,
        accumulative_counts=2,
        paramwise_cfg=_base_.optim_wrapper.paramwise_cfg))
param_scheduler = dict(
    _delete_=True, generator=[_base_.poly], noc=[_base_.poly])
