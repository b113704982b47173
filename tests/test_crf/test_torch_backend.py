"""The torch-native CRF backend: agreement with pydensecrf, batching and
validation (CPU; a CUDA check runs when a GPU is present)."""
import importlib.util

import numpy as np
import pytest
import torch

from mmwsss.crf import (CRF_BACKENDS, DenseCRF, PermutohedralLattice,
                        TorchCRFBackend, build_dense_crf, unary_from_labels,
                        unary_from_probs)
from mmwsss.crf.unary import (unary_from_labels_tensor,
                              unary_from_probs_tensor)

needs_pydensecrf = pytest.mark.skipif(
    importlib.util.find_spec('pydensecrf') is None,
    reason='pydensecrf (pip install pydensecrf2) is not installed')

COLOURS = np.array([(40, 120, 40), (200, 40, 40), (40, 40, 200),
                    (220, 200, 60)], np.float64)


def toy_scene(h: int = 40, w: int = 56, noise: float = 0.2, seed: int = 0):
    """Flat-colour regions (background, two rectangles, a disc) with mild
    pixel noise; returns image, clean labels, noisy labels and a mask of
    pixels at least 3 px away from any region boundary."""
    rng = np.random.default_rng(seed)
    clean = np.zeros((h, w), np.int64)
    clean[4:h // 2, 5:w // 2] = 1
    clean[h // 2 + 2:h - 3, w // 3:w - 6] = 2
    yy, xx = np.mgrid[:h, :w]
    clean[(yy - h // 4)**2 + (xx - 3 * w // 4)**2 < (h // 6)**2] = 3
    image = COLOURS[clean] + rng.normal(0, 4, (h, w, 3))
    image = np.clip(image, 0, 255).round().astype(np.uint8)
    noisy = np.where(rng.random((h, w)) < noise,
                     rng.integers(0, 4, (h, w)), clean)
    edge = np.zeros((h, w), bool)
    edge[1:] |= clean[1:] != clean[:-1]
    edge[:, 1:] |= clean[:, 1:] != clean[:, :-1]
    near = torch.nn.functional.max_pool2d(
        torch.from_numpy(edge)[None, None].float(), 7, 1, 3)[0, 0]
    return image, clean, noisy, ~near.bool().numpy()


def soft_scores(labels: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Noisy, mostly-right class scores (C×H×W, sum to 1)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.0, (n, *labels.shape))
    logits += 1.5 * (np.arange(n)[:, None, None] == labels[None])
    return torch.softmax(torch.from_numpy(logits), 0).numpy().astype(
        np.float32)


def test_registered_and_configurable():
    assert CRF_BACKENDS.module_dict['torch'] is TorchCRFBackend
    crf = DenseCRF(backend='torch')
    assert isinstance(crf.backend, TorchCRFBackend)
    crf = build_dense_crf(
        dict(preset='crf_label', backend=dict(type='torch', device='cpu')))
    assert crf.backend.device == torch.device('cpu')
    assert "backend='torch'" in repr(crf)


@needs_pydensecrf
@pytest.mark.parametrize('preset,n', [('crf_softmax', 4), ('deeplab_v2', 21)])
def test_probs_agree_with_pydensecrf(preset, n):
    image, clean, noisy, interior = toy_scene()
    probs = soft_scores(noisy, n)
    ref = DenseCRF.from_preset(preset).infer_probs(image, probs)
    out = DenseCRF.from_preset(preset, backend='torch').infer_probs(
        image, probs)
    assert out.shape == ref.shape and out.dtype == np.float32
    np.testing.assert_allclose(out.sum(0), 1.0, atol=1e-5)
    same = out.argmax(0) == ref.argmax(0)
    assert same[interior].mean() >= 0.99
    assert same.mean() >= 0.95
    assert np.abs(out - ref).mean() < 1e-3


@needs_pydensecrf
@pytest.mark.parametrize('kernels', [
    dict(gaussian=None),
    dict(bilateral=None, scale_factor=2.0),
    # tiny srgb: key ranges overflow int64 packing, general lattice path
    dict(gaussian=None, bilateral=dict(sxy=0.5, srgb=0.01, compat=5)),
])
def test_kernel_variants_agree_with_pydensecrf(kernels):
    image, _, noisy, _ = toy_scene(seed=2)
    probs = soft_scores(noisy, 4)
    ref = DenseCRF(**kernels).infer_probs(image, probs, gt_prob=0.8)
    out = DenseCRF(backend='torch', **kernels).infer_probs(
        image, probs, gt_prob=0.8)
    assert (out.argmax(0) == ref.argmax(0)).mean() >= 0.99
    np.testing.assert_allclose(out, ref, atol=1e-3)


@needs_pydensecrf
def test_labels_agree_with_pydensecrf_and_clean_noise():
    image, clean, noisy, interior = toy_scene(noise=0.25, seed=1)
    ref = DenseCRF.from_preset('crf_label').infer_labels(image, noisy, 4)
    out = DenseCRF.from_preset('crf_label', backend='torch').infer_labels(
        image, noisy, 4)
    assert out.dtype == np.int64 and out.shape == clean.shape
    assert (out == ref)[interior].mean() >= 0.99
    assert (noisy == clean)[interior].mean() < 0.85
    assert (out == clean)[interior].mean() >= 0.99


@needs_pydensecrf
def test_zero_iterations_is_softmax_of_unary():
    image, _, noisy, _ = toy_scene()
    unary = unary_from_probs(soft_scores(noisy, 3), scale=0.8)
    gaussian, bilateral = dict(sxy=3, compat=3), dict(sxy=50, srgb=5,
                                                       compat=10)
    q = TorchCRFBackend().infer(image, unary, 0, gaussian, bilateral)
    expected = torch.softmax(-torch.from_numpy(unary), 0).numpy()
    np.testing.assert_allclose(q.reshape(3, -1), expected, atol=1e-6)
    ref = CRF_BACKENDS.module_dict['pydensecrf']().infer(
        image, unary, 0, gaussian, bilateral)
    np.testing.assert_allclose(q, ref, atol=1e-5)


def test_deterministic_gradient_free_batched():
    scenes = [toy_scene(seed=s) for s in range(3)]
    images = torch.from_numpy(np.stack([s[0] for s in scenes]))
    probs = torch.from_numpy(np.stack([soft_scores(s[2], 4, i)
                                       for i, s in enumerate(scenes)]))
    probs.requires_grad_(True)
    crf = DenseCRF.from_preset('crf_softmax', backend='torch')
    q = crf.infer_probs_batch(images, probs)
    assert q.shape == probs.shape and q.dtype == torch.float32
    assert not q.requires_grad
    torch.testing.assert_close(q.sum(1), torch.ones(3, *q.shape[2:]))
    assert torch.equal(q, crf.infer_probs_batch(images, probs))
    # a batch is the same as its images one by one, chunked or not
    for i in range(3):
        single = crf.infer_probs(scenes[i][0], probs[i].detach().numpy())
        np.testing.assert_allclose(q[i].numpy(), single, atol=1e-5)
    chunked = DenseCRF.from_preset(
        'crf_softmax', backend=dict(type='torch', max_pixels=1))
    torch.testing.assert_close(chunked.infer_probs_batch(images, probs), q)


def test_labels_batch_with_unsure_pixels():
    scenes = [toy_scene(seed=s) for s in range(2)]
    images = torch.from_numpy(np.stack([s[0] for s in scenes]))
    labels = torch.from_numpy(np.stack([s[1] for s in scenes]))
    holes = labels.clone()
    holes[:, 10:20, 10:30] = 255  # label-free blocks
    crf = DenseCRF.from_preset('crf_label', backend='torch')
    out = crf.infer_labels_batch(images, holes, 4, unsure_label=255)
    assert out.dtype == torch.int64 and out.shape == labels.shape
    assert (out == labels).float().mean() > 0.97
    for i in range(2):
        single = crf.infer_labels(scenes[i][0], holes[i].numpy(), 4,
                                  unsure_label=255)
        assert (out[i].numpy() == single).all()
    with pytest.raises(ValueError, match='unsure_label'):
        crf.infer_labels_batch(images, holes, 4)


@needs_pydensecrf
def test_default_batch_loop_for_pydensecrf():
    image, _, noisy, _ = toy_scene()
    probs = torch.from_numpy(soft_scores(noisy, 3))[None]
    images = torch.from_numpy(image)[None]
    ref = DenseCRF.from_preset('crf_softmax')
    q = ref.infer_probs_batch(images, probs)
    np.testing.assert_allclose(
        q[0].numpy(), ref.infer_probs(image, probs[0].numpy()), atol=1e-6)
    out = DenseCRF.from_preset('crf_softmax', backend='torch')
    assert (out.infer_probs_batch(images, probs).argmax(1) ==
            q.argmax(1)).float().mean() > 0.95


def test_unary_tensor_twins_match_numpy():
    rng = np.random.default_rng(3)
    probs = rng.random((2, 3, 5, 7)).astype(np.float32)
    for scale in (1.0, 0.6):
        torch.testing.assert_close(
            unary_from_probs_tensor(torch.from_numpy(probs), scale)[1],
            torch.from_numpy(unary_from_probs(probs[1], scale)).view(
                3, 5, 7))
    labels = rng.integers(0, 4, (2, 5, 7))
    unsure = rng.random((2, 5, 7)) < 0.3
    torch.testing.assert_close(
        unary_from_labels_tensor(
            torch.from_numpy(labels), 4, 0.7, torch.from_numpy(unsure))[0],
        torch.from_numpy(unary_from_labels(labels[0], 4, 0.7,
                                           unsure[0])).view(4, 5, 7))


def test_lattice_structure():
    torch.manual_seed(0)
    # close to the exact Gaussian in 2-D, up to a global gain
    feats = torch.rand(400, 2) * 6
    values = torch.rand(400, 2)
    out = PermutohedralLattice(feats).filter(values).double()
    exact = torch.exp(-0.5 * torch.cdist(feats, feats).double()**2) @ \
        values.double()
    gain = (out * exact).sum() / (out * out).sum()
    assert (gain * out - exact).norm() / exact.norm() < 0.05
    # groups never interact; the general key path equals the packed one
    feats5 = torch.rand(300, 5) * 4
    values = torch.rand(300, 3)
    groups = torch.arange(300) % 2
    both = PermutohedralLattice(feats5, groups, normalize=True)
    rows = PermutohedralLattice(feats5, groups, normalize=True,
                                pack_keys=False)
    assert torch.equal(both.filter(values), rows.filter(values))
    alone = PermutohedralLattice(feats5[groups == 1], normalize=True)
    torch.testing.assert_close(both.filter(values)[groups == 1],
                               alone.filter(values[groups == 1]))


def test_parameter_validation():
    image, clean, noisy, _ = toy_scene(h=8, w=8)
    unary = unary_from_labels(noisy, 4, 0.7)
    backend = TorchCRFBackend()
    gaussian, bilateral = dict(sxy=3, compat=3), dict(sxy=50, srgb=5,
                                                       compat=10)
    with pytest.raises(ValueError, match='iterations must be an int >= 0'):
        backend.infer(image, unary, -1, gaussian, bilateral)
    with pytest.raises(ValueError, match=r'gaussian\.sxy must be > 0'):
        backend.infer(image, unary, 1, dict(sxy=0, compat=3), None)
    with pytest.raises(ValueError, match="missing \\['srgb'\\]"):
        backend.infer(image, unary, 1, None, dict(sxy=5, compat=3))
    with pytest.raises(ValueError, match="unknown \\['rgb'\\]"):
        backend.infer(image, unary, 1, None, dict(bilateral, rgb=1))
    with pytest.raises(TypeError, match='real number'):
        backend.infer(image, unary, 1, dict(sxy='3', compat=3), None)
    with pytest.raises(ValueError, match='finite'):
        backend.infer(image, unary, 1, dict(sxy=3, compat=np.nan), None)
    with pytest.raises(ValueError, match=r'unary must be C×\(H·W\)'):
        backend.infer(image, unary[:, :5], 1, gaussian, bilateral)
    with pytest.raises(ValueError, match='max_pixels'):
        TorchCRFBackend(max_pixels=0)
    with pytest.raises(TypeError, match='unexpected keyword'):
        DenseCRF(backend=dict(type='torch', window=7))
    with pytest.raises(KeyError, match='unknown CRF backend'):
        DenseCRF(backend='numpy')  # an importable name, not a backend
    crf = DenseCRF(backend='torch', iterations=1)
    images = torch.from_numpy(image)[None]
    probs = torch.ones(1, 2, 8, 8)
    with pytest.raises(TypeError, match='uint8'):
        crf.infer_probs_batch(images.float(), probs)
    with pytest.raises(ValueError, match='B×H×W×3'):
        crf.infer_probs_batch(images[..., 0], probs)
    with pytest.raises(ValueError, match='probs must be B×C×H×W'):
        crf.infer_probs_batch(images, probs[..., :4])
    with pytest.raises(ValueError, match='at least 2'):
        crf.infer_probs_batch(images, probs[:, :1])
    with pytest.raises(ValueError, match='non-negative'):
        crf.infer_probs_batch(images, -probs)
    with pytest.raises(TypeError, match='integers'):
        crf.infer_labels_batch(images, probs[:, 0], 2)
    with pytest.raises(ValueError, match='gt_prob'):
        crf.infer_labels_batch(images, torch.from_numpy(clean)[None], 4,
                               gt_prob=1.0)
    empty = crf.infer_probs_batch(images[:0], probs[:0])
    assert empty.shape == (0, 2, 8, 8)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu():
    image, _, noisy, _ = toy_scene()
    images = torch.from_numpy(image)[None]
    probs = torch.from_numpy(soft_scores(noisy, 5))[None]
    crf = DenseCRF.from_preset('deeplab_v2', backend='torch')
    cpu = crf.infer_probs_batch(images, probs)
    gpu = crf.infer_probs_batch(images.cuda(), probs.cuda())
    assert gpu.is_cuda
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-4, rtol=0)
