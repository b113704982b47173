"""SumAccumOptimWrapper: micro-batch gradients summed (the reference CAM /
C²AM scripts), against mmengine's averaging OptimWrapper."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from mmwsss.engine.optimizers import SumAccumOptimWrapper
from mmwsss.registry import OPTIM_WRAPPERS


def run(wrapper_type, counts: int, steps: int, max_counts: int = -1
        ) -> torch.Tensor:
    """Param change of ``w`` after ``steps`` micro-steps of loss k·w
    (gradient k at micro-step k = 1, 2, ...) with SGD lr 1."""
    w = torch.nn.Parameter(torch.zeros(()))
    wrapper = wrapper_type(optimizer=torch.optim.SGD([w], lr=1.0),
                           accumulative_counts=counts)
    if max_counts > 0:
        wrapper.initialize_count_status(torch.nn.Identity(), 0, max_counts)
    for k in range(1, steps + 1):
        wrapper.update_params(k * w)
    return w.detach()


def test_sums_where_mmengine_averages():
    # gradients 1 and 2 accumulated: the sum 3 vs the mean 1.5
    assert run(SumAccumOptimWrapper, 2, 2).item() == pytest.approx(-3.0)
    assert run(OptimWrapper, 2, 2).item() == pytest.approx(-1.5)


def test_without_accumulation_it_is_the_stock_wrapper():
    assert run(SumAccumOptimWrapper, 1, 3).item() == pytest.approx(
        run(OptimWrapper, 1, 3).item())


def test_last_incomplete_accumulation_is_summed_too():
    # 3 micro-steps at accumulation 2: steps (1 + 2) and then 3 alone,
    # unscaled (mmengine divides the remainder by its own count)
    assert run(SumAccumOptimWrapper, 2, 3, max_counts=3).item() == \
        pytest.approx(-6.0)


def test_built_from_a_config():
    init_default_scope('mmwsss')
    w = torch.nn.Parameter(torch.zeros(()))
    for name in ('SumAccumOptimWrapper', 'SumAccumAmpOptimWrapper'):
        if name.startswith('SumAccumAmp') and not torch.cuda.is_available():
            continue  # AmpOptimWrapper needs CUDA (tests/test_cuda.py)
        wrapper = OPTIM_WRAPPERS.build(
            dict(type=name, optimizer=torch.optim.SGD([w], lr=1.0),
                 accumulative_counts=2))
        assert type(wrapper).__name__ == name
