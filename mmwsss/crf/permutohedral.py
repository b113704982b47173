"""Permutohedral-lattice Gaussian filtering in plain torch.

Implements the lattice of Adams, Baek & Davis, "Fast High-Dimensional
Filtering Using the Permutohedral Lattice" (Eurographics 2010), the filter
behind Krähenbühl & Koltun's dense CRF: points with ``d``-dimensional
features (already divided by their standard deviations) are

1. *embedded* in the hyperplane ``{x ∈ R^{d+1} : Σx = 0}``, scaled so that
   the lattice blur below approximates a unit-variance Gaussian;
2. *splatted* onto the ``d+1`` vertices of their enclosing simplex with
   barycentric weights;
3. *blurred* with a ``[1 2 1]`` kernel along each of the ``d+1`` lattice
   directions (the resulting global gain is irrelevant once normalised);
4. *sliced* back with the same barycentric weights.

The structure is built once with vectorised torch ops (one sort of packed
integer vertex keys, ``searchsorted`` for neighbours); splat and slice are
CSR sparse matrices and the blur is a pair of row gathers per direction, so
filtering runs on any device without compiled code. Memory is ``O(N·(d+1))``
for the structure and ``O((N + M)·C)`` per filtered ``N×C`` signal (``M`` =
occupied vertices ≤ ``N·(d+1)``); the cost does not depend on the kernel
width, so wide kernels are as cheap as narrow ones.

Points carrying different ``groups`` ids (e.g. batch indices) never interact.
"""
import math
import warnings
from typing import Optional, Tuple

import torch

_MAX_CODE = 2**62  # packed vertex keys must stay below this (int64 margin)


def _embedding(d: int, dtype: torch.dtype,
               device: torch.device) -> torch.Tensor:
    """``(d+1)×d`` matrix mapping features onto the hyperplane ``Σx = 0``;
    the per-axis scale makes the lattice blur's variance 1 in feature units
    (Adams et al. 2010, §3.1)."""
    scale = torch.tensor([(d + 1) * math.sqrt(2.0 / 3.0) /
                          math.sqrt((k + 1) * (k + 2)) for k in range(d)],
                         dtype=dtype, device=device)
    rows = torch.arange(d + 1, device=device)[:, None]
    cols = torch.arange(d, device=device)[None, :]
    basis = (cols >= rows).to(dtype) - rows.to(dtype) * (cols == rows - 1)
    return basis * scale


def _enclosing_simplex(
        elevated: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor,
                                         torch.Tensor]:
    """Nearest remainder-0 lattice point, the rank of each coordinate and
    the barycentric weights of the simplex enclosing every point.

    Works coordinate-major (``(d+1)×N``) so every step is a handful of
    contiguous length-N vector ops.

    Args:
        elevated: ``(d+1)×N`` float64 points on the hyperplane.

    Returns:
        rem0 (``(d+1)×N`` int64), rank (``(d+1)×N`` int64), barycentric
        weights (``(d+1)×N`` float64, summing to 1 over dim 0).
    """
    d1, n = elevated.shape
    down = torch.floor(elevated / d1) * d1
    up = down + d1
    # nearest multiple of d+1, ties rounded down
    rem0 = torch.where(up - elevated < elevated - down, up, down)
    total = (rem0.sum(0) / d1).round().to(torch.int64)
    rem0 = rem0.to(torch.int64)

    # rank[i] = number of coordinates with a larger residual (ties: the
    # lower index ranks first), i.e. i's position in a descending sort
    diff = elevated - rem0
    rank = torch.zeros(d1, n, dtype=torch.int64, device=elevated.device)
    for i in range(d1):
        for j in range(i + 1, d1):
            smaller = diff[i] < diff[j]
            rank[i] += smaller
            rank[j] += ~smaller

    # walk to the simplex whose vertex set sums to zero
    wrap_hi = (total > 0) & (rank >= d1 - total)
    wrap_lo = (total < 0) & (rank < -total)
    wrap = wrap_lo.to(torch.int64) - wrap_hi.to(torch.int64)
    rem0 += d1 * wrap
    rank += total + d1 * wrap

    residual = (elevated - rem0) / d1
    bary = torch.zeros(d1 + 1, n, dtype=elevated.dtype,
                       device=elevated.device)
    bary.scatter_add_(0, d1 - 1 - rank, residual)
    bary.scatter_add_(0, d1 - rank, -residual)
    bary[0] += 1.0 + bary[d1]
    return rem0, rank, bary[:d1]


def _neighbour_steps(d: int, device: torch.device) -> torch.Tensor:
    """``(d+1)×d`` key offsets of the lattice directions: +1 on every stored
    coordinate and -(d+1) on coordinate j (direction d only moves the
    implied last coordinate)."""
    steps = torch.ones(d + 1, d, dtype=torch.int64, device=device)
    steps[torch.arange(d), torch.arange(d)] -= d + 1
    return steps


def _packed_index(
        rem0: torch.Tensor, rank: torch.Tensor, groups: torch.Tensor
) -> Optional[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Vertex ids via integer-packed keys (one sort), or None when the key
    ranges overflow int64.

    Returns:
        vertex (``N·(d+1)`` ids, point-major), neighbours
        (``2×(d+1)×M``, ``M`` where absent), order (stable permutation
        sorting ``vertex``).
    """
    d1, n = rank.shape
    d = d1 - 1
    device = rank.device
    # vertex r of a point has key rem0 + r - (d+1)·[rank > d - r], so every
    # key lies in [min rem0 - d1, max rem0 + d]; neighbours move it by <= d1
    lo = rem0[:d].amin(1) - 2 * d1
    span = rem0[:d].amax(1) - lo + 2 * d1 + 1
    radix = [int(s) for s in span.tolist()]
    num_groups = int(groups.max()) + 1 if n else 1
    if math.prod(radix) * num_groups >= _MAX_CODE:
        return None
    strides = [1] * d
    for k in range(d - 2, -1, -1):
        strides[k] = strides[k + 1] * radix[k + 1]
    base = groups * math.prod(radix)
    rem = torch.arange(d1, device=device)
    codes = base[:, None] + rem[None] * sum(strides)
    for k in range(d):
        base_k = (rem0[k] - lo[k]) * strides[k]
        wrap = (rem[None] + rank[k][:, None]) > d
        codes += base_k[:, None] - (d1 * strides[k]) * wrap
    sorted_codes, order = torch.sort(codes.view(-1), stable=True)
    is_new = torch.ones_like(sorted_codes, dtype=torch.bool)
    is_new[1:] = sorted_codes[1:] != sorted_codes[:-1]
    table = sorted_codes[is_new]
    vertex = torch.empty_like(order)
    vertex[order] = is_new.cumsum(0) - 1
    offsets = (_neighbour_steps(d, device) *
               torch.tensor(strides, device=device)).sum(1)
    shifted = torch.stack([table[None] + offsets[:, None],
                           table[None] - offsets[:, None]])
    num = table.numel()
    pos = torch.searchsorted(table, shifted).clamp_(max=num - 1)
    neighbours = torch.where(table[pos] == shifted, pos,
                             torch.full_like(pos, num))
    return vertex, neighbours, order


def _row_index(
    rem0: torch.Tensor, rank: torch.Tensor, groups: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Same as :func:`_packed_index` for any key range: materialises the key
    rows and uniques them (slower, more memory)."""
    d1, n = rank.shape
    d = d1 - 1
    device = rank.device
    rem = torch.arange(d1, device=device)
    wrap = (rem[None, :, None] + rank[:d].T[:, None, :]) > d
    keys = rem0[:d].T[:, None, :] + rem[None, :, None] - d1 * wrap
    keys = torch.cat([groups[:, None, None].expand(n, d1, 1), keys], dim=2)
    table, vertex = torch.unique(keys.view(-1, d1), dim=0,
                                 return_inverse=True)
    num = table.shape[0]
    steps = torch.cat([torch.zeros(d1, 1, dtype=torch.int64, device=device),
                       _neighbour_steps(d, device)], dim=1)
    shifted = torch.cat([table[None] + steps[:, None],
                         table[None] - steps[:, None]]).view(-1, d1)
    _, ids = torch.unique(torch.cat([table, shifted]), dim=0,
                          return_inverse=True)
    lookup = torch.full((int(ids.max()) + 1, ), num, dtype=torch.int64,
                        device=device)
    lookup[ids[:num]] = torch.arange(num, device=device)
    neighbours = lookup[ids[num:]].view(2, d1, num)
    return vertex, neighbours, torch.argsort(vertex, stable=True)


def _csr(crow: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor,
         shape: Tuple[int, int]) -> torch.Tensor:
    """A float32 CSR matrix from components sorted by row then column."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)  # CSR is torch 'beta'
        return torch.sparse_csr_tensor(
            crow, cols, vals.to(torch.float32), shape,
            check_invariants=False)


class PermutohedralLattice:
    """A lattice built once for a point set, then applied to any number of
    signals on those points with :meth:`filter`.

    Splat and slice are CSR matrices (``(M+1)×N`` and ``N×(M+1)``, ``d+1``
    entries per point; vertex ``M`` is an always-zero row standing for
    absent neighbours) and the blur is a pair of neighbour indices per
    direction.

    Args:
        features: ``N×d`` float positions, each axis divided by its kernel
            standard deviation (so the kernel is ``exp(-|fi - fj|² / 2)``).
        groups: optional ``N`` int64 ids >= 0; points of different groups
            are filtered independently (batching).
        normalize: filter with ``D^{-1/2} K D^{-1/2}`` where ``D = K·1``
            (pydensecrf's ``NORMALIZE_SYMMETRIC``), which also cancels the
            lattice's arbitrary global gain.
        pack_keys: use the fast packed-key index when key ranges allow it;
            False forces the general row-unique path (for testing).
    """

    def __init__(self,
                 features: torch.Tensor,
                 groups: Optional[torch.Tensor] = None,
                 normalize: bool = False,
                 pack_keys: bool = True) -> None:
        if features.ndim != 2 or features.shape[1] < 1:
            raise ValueError(f'features must be N×d with d >= 1, got '
                             f'{tuple(features.shape)}')
        if not torch.isfinite(features).all():
            raise ValueError('lattice features must be finite')
        n, d = features.shape
        device = features.device
        if groups is None:
            groups = torch.zeros(n, dtype=torch.int64, device=device)
        groups = groups.to(device=device, dtype=torch.int64)
        if groups.shape != (n, ) or (n and int(groups.min()) < 0):
            raise ValueError(f'groups must be {n} ids >= 0')
        self.num_points = n
        self.dim = d
        elevated = _embedding(d, torch.float64, device) @ features.to(
            torch.float64).T
        rem0, rank, bary = _enclosing_simplex(elevated)
        del elevated
        index = _packed_index(rem0, rank, groups) if pack_keys else None
        if index is None:
            index = _row_index(rem0, rank, groups)
        vertex, neighbours, order = index
        del rem0, rank, index
        bary = bary.T.contiguous()  # point-major, like vertex

        d1 = d + 1
        self.num_vertices = m = int(neighbours.shape[-1])
        pad = torch.full((2, d1, 1), m, dtype=torch.int64, device=device)
        neighbours = torch.cat([neighbours, pad], dim=2)
        self._blur = [(neighbours[0, j], neighbours[1, j])
                      for j in range(d1)]

        # splat: rows = vertices (+ the empty row m), columns = points
        points = order // d1
        splat_vals = bary.reshape(-1)[order]
        counts = torch.bincount(vertex, minlength=m + 1)
        splat_crow = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        # slice: row i holds point i's d+1 vertices, sorted
        slice_cols, slot = vertex.view(n, d1).sort(dim=1)
        slice_vals = bary.gather(1, slot)
        slice_crow = torch.arange(0, n * d1 + 1, d1, device=device)

        self._splat = _csr(splat_crow, points, splat_vals, (m + 1, n))
        self._slice = _csr(slice_crow, slice_cols.reshape(-1),
                           slice_vals.reshape(-1), (n, m + 1))
        if normalize:
            ones = torch.ones(n, 1, dtype=torch.float32, device=device)
            norm = (self.filter(ones)[:, 0].to(torch.float64) +
                    1e-20).rsqrt()
            self._splat = _csr(splat_crow, points, splat_vals * norm[points],
                               (m + 1, n))
            self._slice = _csr(slice_crow, slice_cols.reshape(-1),
                               (slice_vals * norm[:, None]).reshape(-1),
                               (n, m + 1))

    def filter(self, values: torch.Tensor) -> torch.Tensor:
        """Approximate ``Σ_j exp(-|fi - fj|²/2) · v_j`` (self included, up to
        a global constant factor; exactly ``D^{-1/2} K D^{-1/2} v`` with
        ``normalize``) for an ``N×C`` float32 signal."""
        if values.ndim != 2 or values.shape[0] != self.num_points:
            raise ValueError(f'values must be {self.num_points}×C, got '
                             f'{tuple(values.shape)}')
        lattice = torch.sparse.mm(self._splat, values)  # last row: zeros
        blurred = torch.empty_like(lattice)
        upper_values = torch.empty_like(lattice)
        for lower, upper in self._blur:  # [1 2 1]; the gain cancels out
            torch.index_select(lattice, 0, lower, out=blurred)
            torch.index_select(lattice, 0, upper, out=upper_values)
            blurred.add_(upper_values).add_(lattice, alpha=2.0)
            lattice, blurred = blurred, lattice
        return torch.sparse.mm(self._slice, lattice)
