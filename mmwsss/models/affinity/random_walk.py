"""Random walk of CAMs over a boundary map (IRN ``propagate_to_edge``,
README: random walk).

The transition matrix comes from the boundary probabilities of a stride-4
map: pixels closer than ``radius`` get the affinity ``a = 1 - max(boundary
on the path)``, every pixel links to itself with 1, ``T = A^β / colsum(A^β)``
(column stochastic), and the CAMs damped by ``1 - edge`` (the reference;
``damp_edges=False`` walks them undamped) are propagated as
``x · T^(2^exp_times)``.

Why the switch: the damping multiplies every CAM cell by its boundary
probability's complement *before* the walk. A small, strongly activated
object part that the boundary map outlines (a few stride-4 cells, nearly
all of them "boundary") loses most of its activation there, and the walk
then has little left to spread over the object (README, "Refinement on
the synthetic sets").

Two implementations of the same ``T``:

* ``method='sparse'`` (default) stores only the ``2·n_dirs + 1`` neighbours
  of each pixel (69 for radius 5) in a CSR matrix and applies it
  ``2^exp_times`` times to the ``K × N`` maps: O(N) memory and about
  ``2^t · 69 · N · K`` multiply-adds (~2 GFLOP at VOC size);
* ``method='dense'`` is the reference formulation: it forms the ``N × N``
  matrix and squares it ``exp_times`` times (O(N²) memory, ``2·t·N³``
  FLOPs, ~26 TFLOP at VOC size). Kept for tests and
  ``benchmarks/random_walk.py``.

Both agree to float32 rounding (|Δ| ~ 1e-4 relative).
"""
import warnings
from contextlib import contextmanager
from typing import Iterator, Optional, Tuple

import torch
import torch.nn.functional as F

from mmwsss.models.utils.tta import strided_size
from mmwsss.utils.cam_utils import normalize_cam
from .path_index import PathIndex, edge_to_affinity, get_path_index

#: ``normalize`` of :func:`rw_to_full_resolution` -> ``scope`` of
#: :func:`~mmwsss.utils.cam_utils.normalize_cam` (``'none'``: no division).
NORMALIZE_SCOPES = {'global': 'all', 'class': 'map', 'none': None}
NORMALIZE_MODES = tuple(NORMALIZE_SCOPES)
RW_METHODS = ('sparse', 'dense')
#: Multiply-adds per CPU thread in one sparse step (see :func:`spmm_threads`).
SPMM_GRAIN = 2**21


def _check_inputs(cams: torch.Tensor, edge: torch.Tensor) -> torch.Tensor:
    """Validate ``cams (K,h,w)`` and ``edge (h,w) | (1,h,w)``; return the
    edge as (h,w)."""
    if cams.dim() != 3:
        raise ValueError(f'cams must be (K, h, w), got {tuple(cams.shape)}')
    if edge.dim() == 3 and edge.shape[0] == 1:
        edge = edge[0]
    if edge.dim() != 2 or tuple(edge.shape) != tuple(cams.shape[-2:]):
        raise ValueError(
            f'edge must be (h, w) or (1, h, w) matching the CAMs '
            f'{tuple(cams.shape[-2:])}, got {tuple(edge.shape)}')
    return edge


def padded_path_index(size: Tuple[int, int], radius: int) -> PathIndex:
    """The path index of the map padded by ``radius`` left, right and
    bottom."""
    height, width = size
    return get_path_index(radius, (height + radius, width + 2 * radius))


def padded_affinity(edge: torch.Tensor,
                    radius: int) -> Tuple[torch.Tensor, PathIndex]:
    """Affinities on the reference's padded grid.

    The edge map is padded with 1.0 by ``radius`` on the left, right and
    bottom so that every pixel of the map is a source of the path index.

    Returns:
        ``(aff (n_dirs, n_src), path_index)`` on the padded ``(h+r, w+2r)``
        grid.
    """
    index = padded_path_index(tuple(edge.shape[-2:]), radius)
    padded = F.pad(edge.float()[None, None], (radius, radius, 0, radius),
                   value=1.0)
    return edge_to_affinity(padded, index)[0], index


def neighbour_affinities(edge: torch.Tensor, radius: int
                         ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every pixel's affinity to itself and to its neighbours within
    ``radius``.

    The affinities of the search directions ``d`` come from the padded grid
    exactly as in the reference; the opposite offsets ``-d`` reuse them from
    the neighbour (``A`` is symmetric). The entries equal those that survive
    the reference's crop of its padded dense matrix: a path between two map
    pixels never leaves the map, so the 1.0 padding only keeps the index
    arithmetic in range.

    Returns:
        ``(offsets (M, 2), values (M, h, w), valid (M, h, w))`` for the
        ``M = 2·n_dirs + 1`` offsets ``(dy, dx)``, sorted by flat offset
        ``dy·w + dx``; ``values[m, y, x]`` is the affinity of ``(y, x)`` and
        ``(y + dy, x + dx)`` (1 for the self loop), 0 where that pixel is off
        the map (``valid`` False).
    """
    height, width = edge.shape[-2:]
    aff, index = padded_affinity(edge, radius)
    device = edge.device
    crop_h, crop_w = index.crop_size
    col0 = radius - index.radius_floor  # map column 0 in the source region
    aff = aff.view(-1, crop_h, crop_w)[:, :height, col0:col0 + width]
    dirs = torch.tensor(index.directions, device=device)
    dy, dx = dirs[:, 0, None, None], dirs[:, 1, None, None]
    ys = torch.arange(height, device=device)[:, None]
    xs = torch.arange(width, device=device)[None]
    # +d: (y, x) -> (y + dy, x + dx), affinity stored at the source (y, x)
    fwd_ok = (ys + dy < height) & (xs + dx >= 0) & (xs + dx < width)
    # -d: (y, x) -> (y - dy, x - dx), affinity stored at (y - dy, x - dx)
    bwd_ok = (ys - dy >= 0) & (xs - dx >= 0) & (xs - dx < width)
    src_y = (ys - dy).clamp(0, height - 1)
    src_x = (xs - dx).clamp(0, width - 1)
    bwd = aff[torch.arange(len(dirs), device=device)[:, None, None], src_y,
              src_x]
    offsets = torch.cat([dirs.new_zeros(1, 2), dirs, -dirs])
    values = torch.cat([torch.ones_like(aff[:1]), aff, bwd])
    valid = torch.cat([torch.ones_like(fwd_ok[:1]), fwd_ok, bwd_ok])
    values = values * valid
    order = torch.argsort(offsets[:, 0] * width + offsets[:, 1])
    return offsets[order], values[order], valid[order]


def sparse_transition(edge: torch.Tensor,
                      beta: float = 10.0,
                      radius: int = 5,
                      transpose: bool = False) -> torch.Tensor:
    """The column-stochastic transition matrix ``T`` as a sparse CSR tensor.

    Built without sorting: row ``j`` of ``T^T`` holds pixel ``j``'s
    neighbours in flat-offset order, ``T^T[j, i] = A[i, j]^β / Σ_i
    A[i, j]^β``.

    Args:
        edge: ``(h, w)`` boundary probabilities.
        beta: exponent of the affinities.
        radius: search radius.
        transpose: return ``T^T`` (row-stochastic), the layout the walk
            multiplies with (``(x T)^T = T^T x^T``).

    Returns:
        ``(N, N)`` float32 sparse CSR tensor, ``N = h*w``.
    """
    edge = edge.float()
    height, width = edge.shape[-2:]
    num = height * width
    offsets, values, valid = neighbour_affinities(edge, radius)
    valid = valid.view(len(offsets), num).t()  # (N, M)
    scaled = values.pow(beta).view(len(offsets), num).t() * valid
    scaled = scaled / scaled.sum(dim=1, keepdim=True)  # self loop: sum >= 1
    flat = offsets[:, 0] * width + offsets[:, 1]
    pixels = torch.arange(num, device=edge.device)
    index_dtype = torch.int32 if num * len(offsets) < 2**31 else torch.int64
    cols = (pixels[:, None] + flat)[valid].to(index_dtype)
    crow = torch.zeros(num + 1, dtype=index_dtype, device=edge.device)
    crow[1:] = valid.sum(dim=1).cumsum(0)
    with warnings.catch_warnings():
        # torch flags its (well supported) CSR layout as beta on first use
        warnings.filterwarnings('ignore', message='Sparse CSR tensor support')
        trans_t = torch.sparse_csr_tensor(crow, cols, scaled[valid],
                                          (num, num), check_invariants=False)
        if not transpose:
            trans_t = trans_t.t().to_sparse_csr()
    return trans_t


def dense_affinity(edge: torch.Tensor, radius: int = 5) -> torch.Tensor:
    """The reference's dense ``N × N`` affinity matrix (with the identity).

    Built as the reference does: a sparse matrix on the padded grid with
    ``(src, dst)``, ``(dst, src)`` and diagonal entries (duplicates summed),
    made dense, then cropped back to the map.
    """
    height, width = edge.shape[-2:]
    aff, index = padded_affinity(edge, radius)
    num_padded = index.size[0] * index.size[1]
    device = edge.device
    src = index.src_indices.to(device)[None].expand_as(index.dst_indices)
    src = src.reshape(-1)
    dst = index.dst_indices.to(device).reshape(-1)
    diag = torch.arange(num_padded, device=device)
    indices = torch.cat([torch.stack([src, dst]), torch.stack([diag, diag]),
                         torch.stack([dst, src])], dim=1)
    values = torch.cat([aff.reshape(-1), torch.ones(num_padded, device=device),
                        aff.reshape(-1)])
    dense = torch.sparse_coo_tensor(
        indices, values, (num_padded, num_padded),
        check_invariants=False).to_dense()
    dense = dense.view(*index.size, *index.size)
    dense = dense[:-radius, radius:-radius, :-radius, radius:-radius]
    return dense.reshape(height * width, height * width)


def dense_transition(edge: torch.Tensor, beta: float = 10.0,
                     radius: int = 5) -> torch.Tensor:
    """The column-stochastic ``T = A^β / colsum(A^β)`` as a dense matrix."""
    scaled = dense_affinity(edge.float(), radius).pow(beta)
    return scaled / scaled.sum(dim=0, keepdim=True)


def _damped(cams: torch.Tensor, edge: torch.Tensor,
            damp_edges: bool) -> torch.Tensor:
    """The walk's start: ``cams · (1 − edge)`` (reference) or the CAMs."""
    return cams.float() * (1.0 - edge) if damp_edges else cams.float()


def random_walk_dense(cams: torch.Tensor,
                      edge: torch.Tensor,
                      beta: float = 10.0,
                      exp_times: int = 8,
                      radius: int = 5,
                      damp_edges: bool = True) -> torch.Tensor:
    """Reference random walk: square the dense ``T`` ``exp_times`` times."""
    edge = _check_inputs(cams, edge).float()
    num_classes, height, width = cams.shape
    trans = dense_transition(edge, beta, radius)
    for _ in range(exp_times):
        trans = trans @ trans
    x = _damped(cams, edge, damp_edges).reshape(num_classes, -1)
    return (x @ trans).view(num_classes, height, width)


@contextmanager
def _cpu_threads(num: Optional[int]) -> Iterator[None]:
    """Temporarily cap torch's intra-op CPU threads (restored on exit)."""
    before = torch.get_num_threads()
    if num is None or num >= before:
        yield
        return
    torch.set_num_threads(max(1, num))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def spmm_threads(nnz: int, num_classes: int) -> int:
    """CPU threads for one sparse step: one per :data:`SPMM_GRAIN` products.

    A step at VOC size is ~1 ms of work; splitting it over threads costs a
    synchronisation per step (256 per image), which dominates, and stalls for
    a whole time slice when another process holds a core.
    """
    return max(1, nnz * num_classes // SPMM_GRAIN)


def random_walk_sparse(cams: torch.Tensor,
                       edge: torch.Tensor,
                       beta: float = 10.0,
                       exp_times: int = 8,
                       radius: int = 5,
                       num_threads: Optional[int] = None,
                       damp_edges: bool = True) -> torch.Tensor:
    """Same result as :func:`random_walk_dense` from ``2^exp_times`` sparse
    steps.

    Args:
        num_threads: cap on the CPU threads of the steps; None picks
            :func:`spmm_threads` (ignored on CUDA).
    """
    edge = _check_inputs(cams, edge).float()
    num_classes, height, width = cams.shape
    trans_t = sparse_transition(edge, beta, radius, transpose=True)
    x = _damped(cams, edge, damp_edges).reshape(num_classes,
                                                -1).t().contiguous()
    if x.device.type != 'cpu':
        num_threads = None
    elif num_threads is None:
        num_threads = spmm_threads(trans_t.values().numel(), num_classes)
    with _cpu_threads(num_threads):
        for _ in range(2**exp_times):
            x = trans_t @ x
    return x.t().reshape(num_classes, height, width)


def random_walk(cams: torch.Tensor,
                edge: torch.Tensor,
                beta: float = 10.0,
                exp_times: int = 8,
                radius: int = 5,
                method: str = 'sparse',
                num_threads: Optional[int] = None,
                damp_edges: bool = True) -> torch.Tensor:
    """Propagate stride-4 CAMs over the boundary map (README: random walk).

    Args:
        cams: ``(K, h, w)`` CAMs of the present classes at stride 4.
        edge: ``(h, w)`` or ``(1, h, w)`` boundary probabilities in [0, 1].
        beta: affinity exponent β (10).
        exp_times: the walk length is ``2^exp_times`` (8 → 256).
        radius: search radius of the transition (5).
        method: ``'sparse'`` (O(N) memory) or ``'dense'`` (reference, O(N²)).
        num_threads: CPU thread cap of the sparse steps (None: by size).
        damp_edges: start from ``cams · (1 − edge)`` (the reference) or
            from the CAMs themselves (False).

    Returns:
        ``(K, h, w)`` float32 propagated maps on the CAMs' device (not
        normalised).
    """
    edge = _check_inputs(cams, edge)
    if method not in RW_METHODS:
        raise ValueError(f'method must be one of {RW_METHODS}, got {method!r}')
    if beta <= 0 or exp_times < 0 or radius < 2:
        raise ValueError(
            f'need beta > 0, exp_times >= 0 and radius >= 2, got beta={beta}, '
            f'exp_times={exp_times}, radius={radius}')
    if cams.shape[0] == 0:
        return cams.new_zeros(cams.shape, dtype=torch.float32)
    if method == 'dense':
        return random_walk_dense(cams, edge, beta, exp_times, radius,
                                 damp_edges)
    return random_walk_sparse(cams, edge, beta, exp_times, radius, num_threads,
                              damp_edges)


def stride4_size(image_size: Tuple[int, int],
                 stride: int = 4) -> Tuple[int, int]:
    """``(ceil(H/4), ceil(W/4))``: the size of the edge map and walk."""
    return strided_size(image_size, stride)


def rw_to_full_resolution(rw: torch.Tensor,
                          image_size: Tuple[int, int],
                          scale: int = 4,
                          normalize: str = 'global') -> torch.Tensor:
    """Upsample walked maps to the image and normalise them to [0, 1].

    Args:
        rw: ``(K, h, w)`` output of :func:`random_walk`.
        image_size: ``(H, W)``; the ×``scale`` bilinear upsample is cropped
            to it.
        normalize: ``'global'`` divides by ONE maximum over all classes (the
            reference); ``'class'`` divides each map by its own maximum;
            ``'none'`` leaves the values. All-zero maps stay zero
            (:func:`~mmwsss.utils.cam_utils.normalize_cam` with ``eps=0``;
            the maps are non-negative, no ReLU).

    Returns:
        ``(K, H, W)`` float32 maps.
    """
    if normalize not in NORMALIZE_MODES:
        raise ValueError(
            f'normalize must be one of {NORMALIZE_MODES}, got {normalize!r}')
    height, width = int(image_size[0]), int(image_size[1])
    if rw.shape[0] == 0:
        return rw.new_zeros((0, height, width), dtype=torch.float32)
    up = F.interpolate(rw.float()[:, None], scale_factor=scale,
                       mode='bilinear', align_corners=False)
    up = up[:, 0, :height, :width]
    if up.shape[-2:] != (height, width):
        raise ValueError(f'walked map {tuple(rw.shape[-2:])} ×{scale} is '
                         f'smaller than the image {(height, width)}')
    scope = NORMALIZE_SCOPES[normalize]
    if scope is None:
        return up
    return normalize_cam(up, eps=0, scope=scope, relu=False)
