# C²AM / C²AM-H schedule (README: C²AM, HEAD runner 2-saliency.sh): the
# CAM schedule (SGD without momentum, new layers x10, biases / BN beta x2
# without decay, wd 1e-4, poly 0.9 per iteration) at lr 0.001, with
# accumulation 2 (micro-batch gradients summed: SumAccumOptimWrapper),
# 10 epochs.
_base_ = ['./cam_15e.py']
optim_wrapper = dict(optimizer=dict(lr=0.001), accumulative_counts=2)
max_epochs = 10
param_scheduler = [dict(_base_.poly, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
