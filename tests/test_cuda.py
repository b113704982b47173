"""CUDA paths against their CPU results: the random walk, CAM TTA
inference (fp32 and AMP), AffinityNet boundaries and a P-NOC-style train
step under AMP. Marked ``cuda``; skipped without a GPU (run by
``benchmarks/gpu_check.sh``)."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement

from mmwsss.models.affinity.random_walk import random_walk
from mmwsss.registry import MODELS
from tests.conftest import tiny_backbone, tiny_cam_model

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
]


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmwsss')


def test_sparse_random_walk_cuda_matches_cpu():
    gen = torch.Generator().manual_seed(0)
    cams = torch.rand(3, 24, 31, generator=gen)
    edge = torch.rand(24, 31, generator=gen)**2
    cpu = random_walk(cams, edge, exp_times=5, method='sparse')
    gpu = random_walk(cams.cuda(), edge.cuda(), exp_times=5, method='sparse')
    assert gpu.is_cuda
    assert torch.allclose(gpu.cpu(), cpu, rtol=1e-3, atol=1e-5)


def _cam_inputs():
    torch.manual_seed(0)
    image = torch.randint(0, 255, (3, 70, 90), dtype=torch.uint8)
    sample = BaseDataElement(
        metainfo=dict(ori_shape=(70, 90), img_shape=(70, 90)))
    sample.gt_labels = torch.tensor([0, 1, 0, 0, 1, 0])
    return dict(inputs=[image], data_samples=[sample])


@pytest.mark.parametrize('amp', [False, True])
def test_cam_tta_cuda_matches_cpu(amp):
    model = MODELS.build(tiny_cam_model())
    model.init_weights()
    model.eval()
    data = _cam_inputs()
    cpu = model.test_step(data)[0]
    model.cuda()
    with torch.autocast('cuda', enabled=amp):
        gpu = model.test_step(_cam_inputs())[0]
    keys = [k for k in cpu.keys() if torch.is_tensor(cpu.get(k))]
    assert keys
    for key in keys:
        a, b = cpu.get(key), gpu.get(key).float().cpu()
        assert a.shape == b.shape, key
        tol = 2e-2 if amp else 1e-4
        assert torch.allclose(a.float(), b, atol=tol), (key, (a - b).abs().max())


def test_affinitynet_edges_cuda_matches_cpu():
    model = MODELS.build(
        dict(type='AffinityNet', backbone=tiny_backbone(), num_classes=6,
             radius=5))
    model.eval()
    x = torch.randn(1, 3, 64, 80)
    cpu = model.predict_edges(x)
    gpu = model.cuda().predict_edges(x.cuda())
    assert torch.allclose(gpu.cpu(), cpu, atol=1e-4)


def test_amp_train_step_is_finite():
    from mmwsss.engine.optimizers import SumAccumAmpOptimWrapper
    model = MODELS.build(tiny_cam_model()).cuda()
    model.init_weights()
    model.train()
    optim = SumAccumAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.01),
        accumulative_counts=2)
    data = _cam_inputs()
    data['data_samples'][0].gt_label = torch.tensor([0., 1., 0., 0., 1., 0.])
    losses = model.train_step(data, optim)
    assert losses and all(torch.isfinite(v) for v in losses.values())
