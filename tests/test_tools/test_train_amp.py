"""enable_amp (tools/train.py --amp, benchmarks/train_step.py --amp)
converts single and multi-optimizer configs."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmwsss.apis.tool_utils import enable_amp
from tests.conftest import REPO


def test_amp_converts_every_optimizer_wrapper():
    single = Config.fromfile(
        osp.join(REPO, 'configs', 'cam', 'cam_tiny_synthetic.py'))
    enable_amp(single)
    assert single.optim_wrapper.type == 'SumAccumAmpOptimWrapper'
    assert single.optim_wrapper.loss_scale == 'dynamic'

    stock = Config(dict(optim_wrapper=dict(type='OptimWrapper',
                                           optimizer=dict(type='SGD'))))
    enable_amp(stock)
    assert stock.optim_wrapper.type == 'AmpOptimWrapper'

    multi = Config.fromfile(
        osp.join(REPO, 'configs', 'pnoc', 'pnoc_tiny_synthetic.py'))
    enable_amp(multi)
    for name in ('generator', 'noc'):
        assert multi.optim_wrapper[name].type == 'SumAccumAmpOptimWrapper'
    assert multi.optim_wrapper.constructor == \
        'MultiNetOptimWrapperConstructor'


def test_amp_rejects_unknown_wrapper_types():
    cfg = Config(dict(optim_wrapper=dict(type='ApexOptimWrapper',
                                         optimizer=dict(type='SGD'))))
    with pytest.raises(ValueError, match='ApexOptimWrapper'):
        enable_amp(cfg)
