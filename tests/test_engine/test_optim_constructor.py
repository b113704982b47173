import pytest
import torch.nn as nn

from mmwsss.engine import PretrainedScratchOptimWrapperConstructor


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        self.head = nn.Conv2d(4, 2, 1, bias=True)
        self.frozen = nn.Conv2d(2, 2, 1)
        self.frozen.weight.requires_grad_(False)
        self.frozen.bias.requires_grad_(False)


def _groups(**paramwise):
    ctor = PretrainedScratchOptimWrapperConstructor(
        dict(type='OptimWrapper',
             optimizer=dict(type='SGD', lr=0.1, momentum=0.0,
                            weight_decay=1e-4)),
        paramwise_cfg=paramwise or None)
    return ctor(Net()).optimizer.param_groups


def test_reference_four_groups():
    groups = _groups()
    got = [(round(g['lr'], 6), g['weight_decay'], len(g['params']))
           for g in groups]
    # backbone weights (conv + BN gamma), backbone biases (conv bias + BN
    # beta), head weight, head bias; frozen params excluded
    assert got == [(0.1, 1e-4, 2), (0.2, 0.0, 2), (1.0, 1e-4, 1),
                   (2.0, 0.0, 1)]


def test_multipliers_configurable():
    groups = _groups(scratch_lr_mult=1.0, bias_lr_mult=1.0,
                     bias_decay_mult=1.0)
    assert [g['lr'] for g in groups] == pytest.approx([0.1] * 4)
    assert all(g['weight_decay'] == 1e-4 for g in groups)


def test_unknown_paramwise_key():
    with pytest.raises(KeyError, match='scratch_lr'):
        _groups(scratch_lr=3)


def test_poly_schedule_applies_to_all_groups():
    from mmengine.optim.scheduler import PolyLR
    ctor = PretrainedScratchOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    ow = ctor(Net())
    sched = PolyLR(ow.optimizer, power=0.9, eta_min=0, begin=0, end=10,
                   by_epoch=False)
    for _ in range(5):
        ow.optimizer.step()
        sched.step()
    # mmengine's PolyLR reaches eta_min at step end - 1
    factor = (1 - 5 / 9)**0.9
    lrs = [g['lr'] for g in ow.optimizer.param_groups]
    assert lrs == pytest.approx([0.1 * factor, 0.2 * factor, 1.0 * factor,
                                 2.0 * factor], rel=1e-4)


class TwoNets(nn.Module):

    def __init__(self, freeze_noc: bool = False):
        super().__init__()
        self.generator = Net()
        self.noc = Net()
        if freeze_noc:
            self.noc.requires_grad_(False)


def _multi(model):
    from mmwsss.engine.optimizers.multi_net_constructor import \
        MultiNetOptimWrapperConstructor
    sgd = dict(type='OptimWrapper',
               optimizer=dict(type='SGD', lr=0.1, momentum=0.0),
               accumulative_counts=2)
    return MultiNetOptimWrapperConstructor(
        dict(generator=sgd, noc=dict(sgd, accumulative_counts=1)))(model)


def test_multi_net_constructor_one_wrapper_per_network():
    model = TwoNets()
    wrappers = _multi(model)
    assert sorted(wrappers.keys()) == ['generator', 'noc']
    assert wrappers['generator']._accumulative_counts == 2
    gen_params = {id(p) for g in wrappers['generator'].optimizer.param_groups
                  for p in g['params']}
    assert gen_params == {id(p) for p in model.generator.parameters()
                          if p.requires_grad}


def test_multi_net_constructor_names_a_frozen_network():
    with pytest.raises(ValueError, match=r'optim_wrapper.noc: model.noc has '
                       r'no trainable parameter.*param_scheduler.noc'):
        _multi(TwoNets(freeze_noc=True))
    with pytest.raises(KeyError, match='no sub-network "noc"'):
        _multi(nn.ModuleDict(dict(generator=Net())))


@pytest.mark.parametrize('name', ['pnoc', 'poc', 'occse', 'puzzle'])
def test_tiny_cam_trainer_configs_build_their_optimizers(name):
    """Two wrappers for P-NOC, one over the generator for the frozen-OC
    family (a frozen OC has no trainable parameter to optimise)."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.optim import OptimWrapperDict
    from mmengine.registry import init_default_scope

    from mmwsss.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
    from tests.conftest import REPO
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'pnoc', f'{name}_tiny_synthetic.py'))
    init_default_scope('mmwsss')
    cfg.model.generator.pretrained = None
    cfg.model.noc_checkpoint = None
    model = MODELS.build(cfg.model)
    ow = cfg.optim_wrapper.to_dict()
    ctor = ow.pop('constructor', 'DefaultOptimWrapperConstructor')
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=ctor, optim_wrapper_cfg=ow,
        paramwise_cfg=ow.pop('paramwise_cfg', None)))(model)
    if name == 'pnoc':
        assert isinstance(wrapper, OptimWrapperDict)
        assert sorted(wrapper.keys()) == ['generator', 'noc']
        assert isinstance(cfg.param_scheduler, dict)
    else:
        params = {id(p) for g in wrapper.optimizer.param_groups
                  for p in g['params']}
        assert params == {id(p) for p in model.generator.parameters()}
        assert isinstance(cfg.param_scheduler, list)
