"""Superpixels for ICD (Fan et al., CVPR 2020): Felzenszwalb's graph
segmentation, then an adjacency-constrained merge down to at most
``max_regions`` regions.

The reference runs the original C++ Felzenszwalb segmentation (sigma 0.8,
k 75, min size 75) and then merges greedily down to 64 regions by a feature
similarity that ignores adjacency, so a merged "superpixel" can be several
distant pieces. Here:

1. ``skimage.segmentation.felzenszwalb`` with ``scale = k = 75``,
   ``sigma = 0.8``, ``min_size = 75`` on the uint8 RGB image (a close
   analogue of the C++ tool, not bit-identical);
2. every segment is split into its 4-connected components (Felzenszwalb's
   graph is 8-connected, so a segment can touch itself only diagonally);
3. while more than ``max_regions`` regions remain, the smallest one (ties:
   the lowest id) is merged into the 4-adjacent region whose mean RGB
   colour is nearest to its own (Euclidean distance; ties: the lowest id).
   Sizes and mean colours are updated after each merge.

Merging only 4-adjacent, 4-connected regions keeps every region
4-connected; the result is a deterministic function of the image. The ids
are then renumbered 0..n-1 in raster order of each region's first pixel.

:data:`MAX_REGIONS` is re-exported from :mod:`mmwsss.utils.superpixel_io`,
which the data pipeline imports without scikit-image.
"""
import heapq
from types import MappingProxyType
from typing import List, Mapping, Set, Tuple

import numpy as np
from skimage.measure import label as connected_components
from skimage.segmentation import felzenszwalb

from mmwsss.utils.superpixel_io import MAX_REGIONS

#: The reference's Felzenszwalb parameters (``k`` is skimage's ``scale``).
FELZENSZWALB: Mapping[str, float] = MappingProxyType(
    dict(scale=75.0, sigma=0.8, min_size=75))


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError('superpixels need an H×W×3 uint8 RGB image, got '
                         f'{image.dtype} {image.shape}')
    return image


def raster_relabel(labels: np.ndarray) -> Tuple[np.ndarray, int]:
    """(labels renumbered 0..n-1 in raster order of each region's first
    pixel, n): a canonical numbering of a partition."""
    flat = labels.ravel()
    values, first, inverse = np.unique(
        flat, return_index=True, return_inverse=True)
    rank = np.empty(len(values), np.int64)
    rank[np.argsort(first, kind='stable')] = np.arange(len(values))
    return rank[inverse].reshape(labels.shape), len(values)


def split_connected(labels: np.ndarray) -> Tuple[np.ndarray, int]:
    """(each region split into its 4-connected components, renumbered
    0..n-1 in raster order, n)."""
    # background=-1 (no such label): every pixel belongs to a component
    comp = connected_components(
        np.asarray(labels, np.int64), background=-1, connectivity=1)
    return raster_relabel(comp)


def region_adjacency(labels: np.ndarray, num: int) -> List[Set[int]]:
    """Neighbours (4-adjacency) of each of the ``num`` regions of
    ``labels`` (ids 0..num-1)."""
    pairs = []
    for a, b in ((labels[:, :-1], labels[:, 1:]),
                 (labels[:-1], labels[1:])):
        diff = a != b
        pairs.append(np.stack([a[diff], b[diff]], 1))
    edges = np.concatenate(pairs).astype(np.int64)
    edges.sort(axis=1)
    edges = np.unique(edges[:, 0] * num + edges[:, 1])
    neighbours: List[Set[int]] = [set() for _ in range(num)]
    for i, j in zip((edges // num).tolist(), (edges % num).tolist()):
        neighbours[i].add(j)
        neighbours[j].add(i)
    return neighbours


def merge_regions(labels: np.ndarray, image: np.ndarray,
                  max_regions: int = MAX_REGIONS) -> np.ndarray:
    """Merge regions until at most ``max_regions`` remain: repeatedly the
    smallest region into its 4-adjacent region of nearest mean colour.

    Args:
        labels: H×W region ids, each region 4-connected (see
            :func:`split_connected`).
        image: H×W×C image whose mean colours compare regions.
        max_regions: the cap (>= 1).

    Returns:
        H×W int64 ids 0..m-1 (m <= max_regions), in raster order.

    The loop is sequential by nature (each merge changes sizes, colours and
    neighbours); it runs n - max_regions merges, each costing a heap pop
    and the region's degree, on per-region statistics only.
    """
    if max_regions < 1:
        raise ValueError(f'max_regions must be >= 1, got {max_regions}')
    labels, num = raster_relabel(np.asarray(labels, np.int64))
    if num <= max_regions:
        return labels
    flat = labels.ravel()
    sizes = np.bincount(flat, minlength=num).astype(np.float64)
    pixels = np.asarray(image, np.float64).reshape(flat.size, -1)
    sums = np.stack([
        np.bincount(flat, weights=pixels[:, c], minlength=num)
        for c in range(pixels.shape[1])
    ], 1)
    neighbours = region_adjacency(labels, num)
    target = np.arange(num)  # target[i] = the region i was merged into
    heap = [(sizes[i], i) for i in range(num)]
    heapq.heapify(heap)
    alive = np.ones(num, bool)
    remaining = num
    while remaining > max_regions and heap:
        size, i = heapq.heappop(heap)
        if not alive[i] or size != sizes[i]:
            continue  # stale entry: merged away or grown since
        if not neighbours[i]:  # the only region left of its component
            continue
        cand = np.fromiter(sorted(neighbours[i]), np.int64)
        means = sums[cand] / sizes[cand, None]
        dist = ((means - sums[i] / sizes[i])**2).sum(1)
        j = int(cand[np.argmin(dist)])  # first minimum: lowest id
        sizes[j] += sizes[i]
        sums[j] += sums[i]
        alive[i] = False
        target[i] = j
        for k in neighbours[i]:
            neighbours[k].discard(i)
            if k != j:
                neighbours[k].add(j)
                neighbours[j].add(k)
        neighbours[i] = set()
        heapq.heappush(heap, (sizes[j], j))
        remaining -= 1
    while True:  # follow merge chains to the surviving region
        resolved = target[target]
        if np.array_equal(resolved, target):
            break
        target = resolved
    return raster_relabel(target[labels])[0]


def felzenszwalb_regions(image: np.ndarray,
                         scale: float = FELZENSZWALB['scale'],
                         sigma: float = FELZENSZWALB['sigma'],
                         min_size: int = FELZENSZWALB['min_size']
                         ) -> np.ndarray:
    """Felzenszwalb's segmentation of an H×W×3 uint8 RGB image, split into
    4-connected regions: H×W int64 ids 0..n-1 in raster order."""
    image = _check_image(image)
    segments = felzenszwalb(
        image, scale=scale, sigma=sigma, min_size=int(min_size),
        channel_axis=-1)
    return split_connected(segments)[0]


def make_superpixels(image: np.ndarray,
                     max_regions: int = MAX_REGIONS,
                     scale: float = FELZENSZWALB['scale'],
                     sigma: float = FELZENSZWALB['sigma'],
                     min_size: int = FELZENSZWALB['min_size']) -> np.ndarray:
    """ICD superpixels of an H×W×3 uint8 RGB image: Felzenszwalb regions
    merged by adjacency down to at most ``max_regions``.

    Returns:
        H×W uint8 ids 0..n-1 (n <= ``max_regions`` <= 256), each region
        4-connected, numbered in raster order.
    """
    if not 1 <= max_regions <= 256:
        raise ValueError('max_regions must lie in 1..256 (uint8 ids), got '
                         f'{max_regions}')
    image = _check_image(image)
    regions = felzenszwalb_regions(image, scale, sigma, min_size)
    return merge_regions(regions, image, max_regions).astype(np.uint8)
