"""Search paths between nearby pixels of a stride-4 map (IRN-style
inter-pixel relations, README: random walk).

The affinity of a *source* pixel and the *destination* pixel at offset
``(dy, dx)`` is ``1 - max(boundary)`` along the straight pixel path joining
them. The directions cover one half-plane (``dy > 0``, or ``dy == 0`` and
``dx > 0``) within a radius, so each unordered pixel pair appears once.
Sources are restricted to the region where every destination stays inside
the map, so flat indices never wrap across rows.
"""
import math
from functools import lru_cache
from typing import Dict, List, Tuple

import torch

Direction = Tuple[int, int]


def search_directions(radius: int) -> List[Direction]:
    """Half-plane offsets ``(dy, dx)`` with ``dx² + dy² < radius²``, in
    raster order."""
    floor = int(math.ceil(radius)) - 1
    dirs: List[Direction] = [(0, dx) for dx in range(1, floor + 1)]
    for dy in range(1, floor + 1):
        dirs.extend((dy, dx) for dx in range(-floor, floor + 1)
                    if dx * dx + dy * dy < radius * radius)
    return dirs


def direction_path(direction: Direction) -> List[Direction]:
    """Pixels ``(y, x)`` closer than 1 to the line through ``direction``,
    farthest first.

    Candidates lie in the bounding box of ``(0, 0)`` and ``direction``; they
    are stably sorted by decreasing ``|y| + |x|``, so the first entry is the
    destination and the last the source ``(0, 0)``.
    """
    dy, dx = direction
    norm_sq = dy * dy + dx * dx
    coords = [(y, x)
              for y in range(min(0, dy), max(0, dy) + 1)
              for x in range(min(0, dx), max(0, dx) + 1)
              if (dy * x - dx * y)**2 < norm_sq]
    return sorted(coords, key=lambda c: -abs(c[0]) - abs(c[1]))


class PathIndex:
    """Search directions and flat pixel indices of the paths from each
    source pixel.

    Args:
        radius: search radius in pixels of the stride-4 map (10 for
            training, 5 for the random walk).
        size: ``(H, W)`` of the map the flat indices refer to.

    Attributes:
        directions: all search offsets ``(dy, dx)`` in group order (grouped
            by path length, ascending; raster order inside a group).
        path_groups: per length group, a ``(n_dirs_g, len_g, n_src)`` int64
            tensor of flat indices into ``H*W``; index 0 along the path axis
            is the destination.
        src_indices: ``(n_src,)`` flat indices of the source pixels.
        dst_indices: ``(n_dirs, n_src)`` flat indices of the destinations.
        crop_size: ``(Hc, Wc)`` of the source region ``[0:Hc, rf:rf+Wc]``
            (``rf = radius_floor``).
    """

    def __init__(self, radius: int, size: Tuple[int, int]) -> None:
        height, width = int(size[0]), int(size[1])
        self.radius = radius
        self.radius_floor = int(math.ceil(radius)) - 1
        self.size = (height, width)
        rf = self.radius_floor
        crop_h, crop_w = height - rf, width - 2 * rf
        if crop_h <= 0 or crop_w <= 0:
            raise ValueError(
                f'map size {self.size} is too small for radius {radius}: it '
                f'needs H > {rf} and W > {2 * rf}; pad the map first')
        self.crop_size = (crop_h, crop_w)

        by_length: Dict[int, List[Tuple[Direction, List[Direction]]]] = {}
        for direction in search_directions(radius):
            path = direction_path(direction)
            by_length.setdefault(len(path), []).append((direction, path))
        self.path_lengths = sorted(by_length)

        # flat index of pixel (y, x) of the source region [0:Hc, rf:rf+Wc]
        # shifted by a path step (py, px) is src + py*W + px: no wrap-around
        # since |px| <= rf keeps the step inside the map's columns
        full = torch.arange(height * width).view(height, width)
        self.src_indices = full[:crop_h, rf:rf + crop_w].reshape(-1)
        self.directions: List[Direction] = []
        self.path_groups: List[torch.Tensor] = []
        for length in self.path_lengths:
            steps = torch.tensor([[py * width + px for py, px in path]
                                  for _, path in by_length[length]])
            self.directions.extend(d for d, _ in by_length[length])
            self.path_groups.append(steps[..., None] + self.src_indices)
        self.dst_indices = torch.cat([g[:, 0] for g in self.path_groups])
        self.num_directions = len(self.directions)
        self._device_groups: Dict[str, List[torch.Tensor]] = {}

    @property
    def num_sources(self) -> int:
        return int(self.src_indices.numel())

    def groups_on(self, device: torch.device) -> List[torch.Tensor]:
        """The path groups on ``device`` (copied once per device)."""
        key = str(torch.device(device))
        if key not in self._device_groups:
            self._device_groups[key] = [g.to(device) for g in self.path_groups]
        return self._device_groups[key]

    def __repr__(self) -> str:
        return (f'PathIndex(radius={self.radius}, size={self.size}, '
                f'directions={self.num_directions}, '
                f'groups={len(self.path_groups)}, sources={self.num_sources})')


@lru_cache(maxsize=32)
def get_path_index(radius: int, size: Tuple[int, int]) -> PathIndex:
    """Build (once per ``(radius, size)``) and return the :class:`PathIndex`.

    The returned object is shared: treat its tensors as read-only.
    """
    return PathIndex(radius, (int(size[0]), int(size[1])))


def edge_to_affinity(edges: torch.Tensor,
                     path_index: PathIndex) -> torch.Tensor:
    """Affinities ``1 - max(boundary along the path)`` of every source and
    direction (the reference's ``to_affinity``).

    Args:
        edges: ``(B, 1, H, W)`` boundary probabilities in [0, 1], ``(H, W)``
            equal to ``path_index.size``.
        path_index: the paths to follow.

    Returns:
        ``(B, n_dirs, n_src)`` affinities, directions in
        ``path_index.directions`` order.
    """
    if edges.dim() != 4 or edges.shape[1] != 1:
        raise ValueError(
            f'edges must be (B, 1, H, W), got {tuple(edges.shape)}')
    if tuple(edges.shape[-2:]) != path_index.size:
        raise ValueError(f'edge map size {tuple(edges.shape[-2:])} does not '
                         f'match the path index size {path_index.size}')
    flat = edges.reshape(edges.shape[0], -1)
    affinities = []
    for group in path_index.groups_on(edges.device):
        values = flat[:, group.reshape(-1)].view(len(flat), *group.shape)
        affinities.append(1.0 - values.max(dim=2).values)
    return torch.cat(affinities, dim=1)


def pair_labels(labels: torch.Tensor,
                path_index: PathIndex) -> Tuple[torch.Tensor, torch.Tensor]:
    """Labels of the source and destination pixel of every pair.

    Args:
        labels: ``(B, H, W)`` integer label maps of size ``path_index.size``.

    Returns:
        ``(src_labels (B, 1, n_src), dst_labels (B, n_dirs, n_src))``.
    """
    if labels.dim() != 3 or tuple(labels.shape[-2:]) != path_index.size:
        raise ValueError(f'labels must be (B, {path_index.size[0]}, '
                         f'{path_index.size[1]}), got {tuple(labels.shape)}')
    flat = labels.reshape(labels.shape[0], -1)
    src = flat[:, path_index.src_indices.to(labels.device)].unsqueeze(1)
    dst = flat[:, path_index.dst_indices.to(labels.device)]
    return src, dst
