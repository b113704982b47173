"""Deterministic K-means on torch (k-means++ seeding, Lloyd iterations):
W-OoD's clusters of OoD features.

The reference seeds K-means with the first K points of its list, so the
clusters depend on the order of ``ood_list.txt``, and divides by zero when
a cluster empties. Here the result depends only on the *set* of points and
the seed:

1. the points are put in a canonical order first (rows sorted
   lexicographically, :func:`canonical_order`), so any permutation of the
   input gives bit-identical centres;
2. k-means++ seeding (Arthur & Vassilvitskii, 2007) draws the first centre
   uniformly and each next one with probability proportional to the squared
   distance to the nearest chosen centre, from a ``torch.Generator`` seeded
   with ``seed``; when every remaining point coincides with a chosen centre
   (fewer distinct points than K) the first unchosen point is taken;
3. Lloyd iterations: assign each point to its nearest centre (ties to the
   lower cluster index), move each centre to the mean of its points; stop
   after ``max_iters`` updates or when the assignment no longer changes;
4. an empty cluster is re-seeded with the point farthest from its own
   centre (ties to the earlier point in canonical order); several empty
   clusters take the farthest points in turn, in cluster order.

Everything runs on the CPU in float64 with exact (not matrix-product)
distances: W-OoD clusters ~10k 2048-d features, a few seconds.
"""
from typing import NamedTuple

import numpy as np
import torch


class KMeansResult(NamedTuple):
    """Output of :func:`kmeans`."""
    centres: torch.Tensor  # K x D, float64
    assignment: torch.Tensor  # N, long: cluster of each input row
    inertia: float  # sum of squared distances to the assigned centres
    iterations: int  # Lloyd updates run


def canonical_order(points: torch.Tensor) -> torch.Tensor:
    """Indices that sort the rows of ``points`` (N x D) lexicographically
    (column 0 first; stable, so equal rows keep their order — they are
    interchangeable)."""
    arr = points.detach().cpu().numpy()
    return torch.from_numpy(np.lexsort(arr.T[::-1]).astype(np.int64))


def _distances(points: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """N x K Euclidean distances, computed exactly."""
    return torch.cdist(points, centres,
                       compute_mode='donot_use_mm_for_euclid_dist')


def kmeans_plus_plus(points: torch.Tensor, k: int,
                     generator: torch.Generator) -> torch.Tensor:
    """Indices of ``k`` k-means++ seeds among the rows of ``points``."""
    n = len(points)
    first = int(torch.randint(n, (1, ), generator=generator))
    chosen = [first]
    d2 = ((points - points[first])**2).sum(1)
    for _ in range(1, k):
        total = float(d2.sum())
        if total > 0:
            index = int(torch.multinomial(d2 / total, 1, generator=generator))
        else:  # every point sits on a chosen centre
            taken = set(chosen)
            index = next(i for i in range(n) if i not in taken)
        chosen.append(index)
        d2 = torch.minimum(d2, ((points - points[index])**2).sum(1))
    return torch.tensor(chosen, dtype=torch.long)


def _reseed_empty(centres: torch.Tensor, counts: torch.Tensor,
                  points: torch.Tensor, own_dist: torch.Tensor) -> None:
    """Move the centres of empty clusters onto the farthest points."""
    own_dist = own_dist.clone()
    for cluster in torch.nonzero(counts == 0).flatten().tolist():
        index = int(torch.argmax(own_dist))
        centres[cluster] = points[index]
        own_dist[index] = -1.0


def kmeans(points: torch.Tensor,
           k: int,
           max_iters: int = 10,
           seed: int = 0) -> KMeansResult:
    """Cluster the rows of ``points`` into ``k`` clusters (see the module
    docstring for the exact, order-independent procedure).

    Args:
        points: N x D features (any float dtype or device; N >= k).
        k: number of clusters (W-OoD: 50).
        max_iters: most Lloyd updates (the reference runs 10).
        seed: seed of the k-means++ draws.

    Returns:
        :class:`KMeansResult`; ``assignment`` follows the input row order.
    """
    if points.ndim != 2:
        raise ValueError(f'kmeans: points must be N x D, got '
                         f'{tuple(points.shape)}')
    n = len(points)
    if not 1 <= k <= n:
        raise ValueError(f'kmeans: k must lie in 1..N (N={n} points), got '
                         f'{k}')
    if max_iters < 0:
        raise ValueError(f'kmeans: max_iters must be >= 0, got {max_iters}')
    x = points.detach().to('cpu', torch.float64)
    if not torch.isfinite(x).all():
        raise ValueError('kmeans: points contain NaN or infinite values')
    order = canonical_order(x)
    x = x[order]
    generator = torch.Generator().manual_seed(int(seed))
    centres = x[kmeans_plus_plus(x, k, generator)].clone()

    assignment = None
    iterations = 0
    for _ in range(max_iters):
        dist = _distances(x, centres)
        new_assignment = dist.argmin(1)
        if assignment is not None and torch.equal(new_assignment,
                                                  assignment):
            break  # converged: the centres are the means of this split
        assignment = new_assignment
        counts = torch.bincount(assignment, minlength=k)
        sums = torch.zeros_like(centres).index_add_(0, assignment, x)
        centres = sums / counts.clamp(min=1).to(x.dtype)[:, None]
        if (counts == 0).any():
            own = dist.gather(1, assignment[:, None]).squeeze(1)
            _reseed_empty(centres, counts, x, own)
            assignment = None  # the split changed: iterate again
        iterations += 1

    dist = _distances(x, centres)
    final = dist.argmin(1)
    inertia = float((dist.gather(1, final[:, None])**2).sum())
    in_input_order = torch.empty_like(final)
    in_input_order[order] = final
    return KMeansResult(centres, in_input_order, inertia, iterations)
