import pytest
import torch
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
