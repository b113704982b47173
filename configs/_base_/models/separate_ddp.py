# Models whose train_step updates several networks (P-NOC & co.): each
# trainable sub-network gets its own DDP wrapper, and the hook keeps DDP
# checkpoints loadable (see StripSubmoduleWrapperHook). Plain
# MMDistributedDataParallel would bypass the model's train_step.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
custom_hooks = [dict(type='StripSubmoduleWrapperHook')]
