"""The sparse random walk against the dense reference (README: random walk)."""
import pytest
import torch
import torch.nn.functional as F

from mmwsss.models.affinity.random_walk import (
    dense_transition, random_walk, random_walk_dense, random_walk_sparse,
    rw_to_full_resolution, sparse_transition, stride4_size)


def _labels(maps: torch.Tensor, bg_threshold: float) -> torch.Tensor:
    """argmax over [bg_threshold, maps...] (0 = background)."""
    bg = torch.full_like(maps[:1], bg_threshold)
    return torch.cat([bg, maps]).argmax(0)


def _scene(height: int, width: int, num_classes: int, seed: int):
    """Blob CAMs and a boundary map with closed-ish walls plus noise."""
    gen = torch.Generator().manual_seed(seed)
    ys = torch.linspace(0, 1, height)[:, None]
    xs = torch.linspace(0, 1, width)[None]
    cams, edge = [], 0.1 * torch.rand(height, width, generator=gen)
    for _ in range(num_classes):
        cy, cx, rad = torch.rand(3, generator=gen) * torch.tensor(
            [0.8, 0.8, 0.2])
        cy, cx, rad = cy + 0.1, cx + 0.1, rad + 0.1
        dist = ((ys - cy)**2 + (xs - cx)**2).sqrt()
        cams.append((1 - dist / (2 * rad)).clamp(0, 1))
        edge = torch.maximum(edge, torch.exp(-((dist - 1.3 * rad) / 0.02)**2))
    return torch.stack(cams), edge.clamp(0, 1)


def test_transition_is_column_stochastic_and_matches_dense():
    _, edge = _scene(11, 14, 2, seed=0)
    dense = dense_transition(edge)
    sparse = sparse_transition(edge)
    assert sparse.layout == torch.sparse_csr
    as_dense = sparse.to_dense()
    assert torch.allclose(as_dense.sum(0), torch.ones(11 * 14), atol=1e-5)
    assert (as_dense >= 0).all()
    assert torch.allclose(as_dense, dense, atol=1e-6)
    # 34 directions both ways + self loop at most per column
    assert int((as_dense > 0).sum(0).max()) <= 69
    assert torch.allclose(sparse_transition(edge, transpose=True).to_dense(),
                          dense.t(), atol=1e-6)


@pytest.mark.parametrize('size,num_classes,seed',
                         [((7, 9), 1, 0), ((12, 15), 3, 1), ((20, 17), 2, 2)])
def test_sparse_equals_dense_on_random_maps(size, num_classes, seed):
    gen = torch.Generator().manual_seed(seed)
    cams = torch.rand(num_classes, *size, generator=gen)
    edge = torch.rand(*size, generator=gen)**2
    dense = random_walk(cams, edge, method='dense')
    sparse = random_walk(cams, edge[None], method='sparse')
    assert sparse.shape == dense.shape == (num_classes, *size)
    assert torch.allclose(sparse, dense, rtol=1e-3, atol=1e-5)
    for thr in (0.0, 0.05):
        assert torch.equal(_labels(sparse / sparse.max(), thr),
                           _labels(dense / dense.max(), thr))


@pytest.mark.slow  # ~10-20 s of dense vs sparse walks on 2 cores
def test_label_agreement_on_a_larger_map():
    cams, edge = _scene(40, 50, 3, seed=3)
    image_size = (157, 198)  # ceil(/4) = (40, 50)
    assert stride4_size(image_size) == (40, 50)
    dense = rw_to_full_resolution(random_walk_dense(cams, edge), image_size)
    sparse = rw_to_full_resolution(random_walk_sparse(cams, edge), image_size)
    assert sparse.shape == (3, *image_size)
    assert (sparse - dense).abs().max() < 1e-3
    for thr in (0.25, 0.3):
        labels_sparse, labels_dense = _labels(sparse, thr), _labels(dense, thr)
        assert len(labels_dense.unique()) == 4  # the walk kept every class
        agree = (labels_sparse == labels_dense).float().mean().item()
        assert agree >= 0.995


def test_wall_stops_propagation():
    height, width = 12, 16
    edge = torch.zeros(height, width)
    edge[:, 7] = 1.0
    cams = torch.zeros(1, height, width)
    cams[0, 3:6, 1:4] = 1.0
    rw = random_walk(cams, edge)
    assert (rw[0, :, 7:] == 0).all()
    assert (rw[0, :, :7] > 0).all()  # the walk spreads within its region


def test_uniform_input_is_a_fixed_point():
    """Column-stochastic T keeps a constant row vector constant."""
    cams = torch.full((2, 9, 13), 0.5)
    cams[1] = 0.2
    for edge_value in (0.0, 0.3):
        edge = torch.full((9, 13), edge_value)
        rw = random_walk(cams, edge, exp_times=4)
        expected = cams * (1 - edge_value)
        assert torch.allclose(rw, expected, atol=1e-5)


def test_no_classes():
    edge = torch.rand(6, 8)
    out = random_walk(torch.zeros(0, 6, 8), edge)
    assert out.shape == (0, 6, 8)
    assert rw_to_full_resolution(out, (21, 30)).shape == (0, 21, 30)


def test_full_resolution_normalisation():
    rw = torch.zeros(3, 5, 6)
    rw[0, 1, 1] = 4.0
    rw[1, 2, 3] = 1.0  # class 2 stays all zero
    image_size = (18, 23)
    glob = rw_to_full_resolution(rw, image_size)
    assert glob.shape == (3, 18, 23)
    expected = F.interpolate(rw[:, None], scale_factor=4, mode='bilinear',
                             align_corners=False)[:, 0, :18, :23]
    assert torch.allclose(glob, expected / expected.max())
    assert glob.max() == 1.0 and glob[1].max() < 0.3
    per_class = rw_to_full_resolution(rw, image_size, normalize='class')
    assert torch.allclose(per_class[0], glob[0])
    assert per_class[1].max() == pytest.approx(1.0)
    assert (per_class[2] == 0).all() and torch.isfinite(per_class).all()
    raw = rw_to_full_resolution(rw, image_size, normalize='none')
    assert torch.allclose(raw, expected)


def test_bad_inputs():
    cams = torch.rand(2, 6, 8)
    with pytest.raises(ValueError, match='edge'):
        random_walk(cams, torch.rand(6, 9))
    with pytest.raises(ValueError, match='cams'):
        random_walk(cams[0], torch.rand(6, 8))
    with pytest.raises(ValueError, match='method'):
        random_walk(cams, torch.rand(6, 8), method='fast')
    with pytest.raises(ValueError, match='beta'):
        random_walk(cams, torch.rand(6, 8), beta=0.0)
    with pytest.raises(ValueError, match='normalize'):
        rw_to_full_resolution(cams, (24, 32), normalize='max')
    with pytest.raises(ValueError, match='smaller'):
        rw_to_full_resolution(cams, (25, 32))


def test_sparse_steps_thread_cap_is_restored():
    from mmwsss.models.affinity.random_walk import SPMM_GRAIN, spmm_threads
    assert spmm_threads(100, 3) == 1
    assert spmm_threads(SPMM_GRAIN, 4) == 4
    cams, edge = torch.rand(2, 9, 11), torch.rand(9, 11)
    before = torch.get_num_threads()
    one = random_walk(cams, edge, exp_times=3, num_threads=1)
    assert torch.get_num_threads() == before
    assert torch.allclose(one, random_walk(cams, edge, exp_times=3,
                                           num_threads=before))


@pytest.mark.parametrize('radius,beta', [(2, 1.0), (3, 10.0), (4, 0.5)])
def test_transition_other_radii_and_betas(radius, beta):
    edge = torch.rand(9, 12, generator=torch.Generator().manual_seed(4))
    dense = dense_transition(edge, beta=beta, radius=radius)
    sparse = sparse_transition(edge, beta=beta, radius=radius).to_dense()
    assert torch.allclose(sparse, dense, atol=1e-6)


@pytest.mark.parametrize('method', ['sparse', 'dense'])
def test_damp_edges_switch(method):
    """damp_edges=True (reference) walks cams·(1 − edge); False walks the
    CAMs themselves: the same as walking pre-multiplied maps undamped."""
    cams, edge = _scene(10, 12, 2, seed=3)
    damped = random_walk(cams, edge, exp_times=3, method=method)
    undamped = random_walk(cams, edge, exp_times=3, method=method,
                           damp_edges=False)
    assert not torch.allclose(damped, undamped)
    manual = random_walk(cams * (1 - edge), edge, exp_times=3,
                         method=method, damp_edges=False)
    assert torch.allclose(damped, manual, atol=1e-6)
    # a walk of length 1 (2^0 steps) of an undamped constant map keeps it:
    # T is column-stochastic, so x·T of a constant x is that constant
    flat = torch.ones(1, 10, 12)
    once = random_walk(flat, edge, exp_times=0, method=method,
                       damp_edges=False)
    assert torch.allclose(once, flat, atol=1e-5)
