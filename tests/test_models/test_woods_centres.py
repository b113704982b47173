"""Class centres, GAP features and the deterministic K-means of W-OoD."""
import pytest
import torch

from mmwsss.models.utils import (canonical_order, class_centres,
                                 gap_features, kmeans)
from mmwsss.models.utils.kmeans import _reseed_empty, kmeans_plus_plus


def blobs(seed=0, per_blob=30):
    """Three well separated 4-d Gaussian blobs (90 points)."""
    g = torch.Generator().manual_seed(seed)
    means = torch.tensor([[0., 0., 0., 0.], [10., 0., 5., 0.],
                          [0., 10., 0., -5.]])
    pts = means.repeat_interleave(per_blob, 0) + 0.5 * torch.randn(
        3 * per_blob, 4, generator=g)
    return pts, means


# ------------------------------------------------------------- centres
def test_class_centres_by_hand():
    feats = torch.tensor([[1., 0.], [3., 2.], [5., 4.]])
    labels = torch.tensor([[1., 0.], [1., 1.], [0., 1.]])  # image 1: both
    centres, counts = class_centres(feats, labels)
    assert centres.dtype == torch.float64
    assert centres.tolist() == [[2., 1.], [4., 3.]]
    assert counts.tolist() == [2, 2]
    perm = torch.tensor([2, 0, 1])
    again, _ = class_centres(feats[perm], labels[perm])
    assert torch.allclose(again, centres)


def test_class_centres_missing_class_is_named():
    feats, labels = torch.ones(2, 3), torch.tensor([[1., 0.], [1., 0.]])
    with pytest.raises(ValueError, match='class boat'):
        class_centres(feats, labels, class_names=('kite', 'boat'))
    with pytest.raises(ValueError, match='do not fit'):
        class_centres(feats, labels[:1])


def test_gap_features_pools_the_image_cells_only():
    feats = torch.arange(2 * 16, dtype=torch.float32).reshape(1, 2, 4, 4)
    full = gap_features(feats, (64, 64))
    assert torch.equal(full, feats.mean(dim=(2, 3)))
    # a 40 x 20 image padded to 64 x 64: ceil(2.5) = 3 rows, ceil(1.25) = 2
    # columns of the 4 x 4 map
    part = gap_features(feats, (64, 64), [(40, 20)])
    assert torch.equal(part, feats[:, :, :3, :2].mean(dim=(2, 3)))
    assert torch.equal(gap_features(feats, (64, 64), [(64, 64)]), full)
    with pytest.raises(ValueError, match='2 image shapes'):
        gap_features(feats, (64, 64), [(1, 1), (1, 1)])


# -------------------------------------------------------------- K-means
def test_kmeans_recovers_blobs():
    pts, means = blobs()
    result = kmeans(pts, 3, max_iters=10, seed=0)
    assert result.centres.shape == (3, 4)
    # every blob is one cluster, whose centre is the blob's mean
    for b in range(3):
        ids = result.assignment[30 * b:30 * (b + 1)]
        assert (ids == ids[0]).all()
        assert torch.allclose(result.centres[ids[0]],
                              pts[30 * b:30 * (b + 1)].double().mean(0))
    assert len(set(result.assignment.tolist())) == 3
    assert result.iterations <= 10
    d = torch.cdist(pts.double(), result.centres)
    assert result.inertia == pytest.approx(float((d.min(1).values**2).sum()))


def test_kmeans_is_deterministic():
    g = torch.Generator().manual_seed(1)
    pts = torch.randn(200, 8, generator=g)
    a = kmeans(pts, 7, seed=5)
    b = kmeans(pts, 7, seed=5)
    assert torch.equal(a.centres, b.centres)
    assert torch.equal(a.assignment, b.assignment)
    assert a.inertia == b.inertia and a.iterations == b.iterations


def test_kmeans_ignores_the_input_order():
    """Seeding runs on a canonical (sorted) order: any permutation of the
    points gives bit-identical centres (the reference's "first K points"
    depend on the list order)."""
    g = torch.Generator().manual_seed(2)
    pts = torch.randn(150, 6, generator=g)
    pts[10] = pts[20]  # duplicates are fine
    base = kmeans(pts, 9, seed=0)
    for s in range(3):
        perm = torch.randperm(150, generator=torch.Generator().manual_seed(s))
        out = kmeans(pts[perm], 9, seed=0)
        assert torch.equal(out.centres, base.centres)
        assert torch.equal(out.assignment, base.assignment[perm])


def test_kmeans_lloyd_fixed_point():
    g = torch.Generator().manual_seed(3)
    pts = torch.randn(120, 3, generator=g).double()
    result = kmeans(pts, 5, max_iters=100, seed=0)
    assert result.iterations < 100  # converged
    # each centre is the mean of its points, each point at its nearest
    for c in range(5):
        members = pts[result.assignment == c]
        assert len(members) > 0
        assert torch.allclose(result.centres[c], members.mean(0))
    nearest = torch.cdist(pts, result.centres).argmin(1)
    assert torch.equal(nearest, result.assignment)


def test_kmeans_seed_and_zero_iterations():
    g = torch.Generator().manual_seed(4)
    pts = torch.randn(60, 2, generator=g).double()
    x = pts[canonical_order(pts)]
    seeds = {
        tuple(kmeans_plus_plus(x, 4, torch.Generator().manual_seed(s))
              .tolist())
        for s in range(5)
    }
    assert len(seeds) > 1  # the seed matters
    init = kmeans(pts, 4, max_iters=0, seed=0)
    first = kmeans_plus_plus(x, 4, torch.Generator().manual_seed(0))
    assert init.iterations == 0 and torch.equal(init.centres, x[first])


def test_kmeans_plus_plus_prefers_far_points():
    # 50 points at 0 and one far outlier: the second seed is the outlier
    # whichever point comes first (D^2 is zero for the others)
    pts = torch.zeros(51, 2, dtype=torch.float64)
    pts[-1] = torch.tensor([100., 100.])
    for s in range(5):
        chosen = kmeans_plus_plus(pts, 2, torch.Generator().manual_seed(s))
        assert 50 in chosen.tolist()


def test_empty_cluster_reseeding():
    points = torch.tensor([[0.], [1.], [9.], [10.]], dtype=torch.float64)
    centres = torch.tensor([[0.5], [9.5], [100.], [200.]],
                           dtype=torch.float64)
    counts = torch.tensor([2, 2, 0, 0])
    own = torch.tensor([0.5, 0.5, 0.5, 0.7], dtype=torch.float64)
    _reseed_empty(centres, counts, points, own)
    # cluster 2 takes the farthest point (10), cluster 3 the next farthest,
    # ties to the earlier point (0)
    assert centres.flatten().tolist() == [0.5, 9.5, 10., 0.]


def test_kmeans_fewer_distinct_points_than_k():
    pts = torch.tensor([[0.], [0.], [0.], [1.], [1.]])
    result = kmeans(pts, 3, seed=0)
    assert torch.isfinite(result.centres).all()
    assert set(result.centres.flatten().tolist()) <= {0., 1.}
    assert result.inertia == 0.0


def test_canonical_order_and_errors():
    pts = torch.tensor([[1., 2.], [0., 5.], [1., 1.], [0., 5.]])
    assert canonical_order(pts).tolist() == [1, 3, 2, 0]
    with pytest.raises(ValueError, match='k must lie in 1..N'):
        kmeans(pts, 5)
    with pytest.raises(ValueError, match='N x D'):
        kmeans(torch.zeros(4), 2)
    with pytest.raises(ValueError, match='NaN'):
        kmeans(torch.tensor([[0.], [float('nan')]]), 1)
