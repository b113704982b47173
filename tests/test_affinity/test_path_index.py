"""Path indices (IRN-style search paths), edge→affinity and pair labels."""
import pytest
import torch

from mmwsss.models.affinity import (PathIndex, edge_to_affinity,
                                    get_path_index, pair_labels)
from mmwsss.models.affinity.path_index import direction_path, search_directions


def test_radius10_training_geometry():
    index = PathIndex(10, (128, 128))
    assert index.radius_floor == 9
    assert index.num_directions == len(index.directions) == 152
    assert len(index.path_groups) == 20
    assert index.path_lengths == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                  15, 16, 18, 19, 20, 21, 22]
    assert index.crop_size == (119, 110)
    assert index.src_indices.shape == (13090,)
    assert index.dst_indices.shape == (152, 13090)
    for length, group in zip(index.path_lengths, index.path_groups):
        assert group.dtype == torch.long
        assert group.shape[1:] == (length, 13090)
    assert sum(g.shape[0] for g in index.path_groups) == 152


def test_radius5_inference_geometry():
    index = PathIndex(5, (20, 30))
    assert index.num_directions == 34
    assert len(index.path_groups) == 9
    assert index.crop_size == (16, 22)
    assert index.src_indices.numel() == 16 * 22
    # each unordered offset once: directions and negations are disjoint
    dirs = set(index.directions)
    assert len(dirs) == 34
    assert not dirs & {(-dy, -dx) for dy, dx in dirs}
    assert set(search_directions(5)) == dirs
    assert all(dy * dy + dx * dx < 25 for dy, dx in dirs)


@pytest.mark.parametrize('direction,path', [
    ((0, 1), [(0, 1), (0, 0)]),
    ((0, 3), [(0, 3), (0, 2), (0, 1), (0, 0)]),
    ((1, 1), [(1, 1), (0, 1), (1, 0), (0, 0)]),
    ((2, -1), [(2, -1), (1, -1), (2, 0), (0, -1), (1, 0), (0, 0)]),
    ((4, 0), [(4, 0), (3, 0), (2, 0), (1, 0), (0, 0)]),
])
def test_hand_checked_paths(direction, path):
    assert direction_path(direction) == path


def test_flat_indices_follow_the_paths():
    height, width = 12, 15
    index = PathIndex(5, (height, width))
    rf = index.radius_floor
    src = index.src_indices
    sy, sx = src // width, src % width
    assert int(sy.min()) == 0 and int(sy.max()) == height - rf - 1
    assert int(sx.min()) == rf and int(sx.max()) == width - rf - 1
    for d, (dy, dx) in enumerate(index.directions):
        dst = index.dst_indices[d]
        assert torch.equal(dst // width, sy + dy)
        assert torch.equal(dst % width, sx + dx)
    # full path of one direction, checked pixel by pixel
    (g, k), = [(g, k) for g, grp in enumerate(index.path_groups)
               for k in range(grp.shape[0])
               if (grp[k, 0, 0] // width, grp[k, 0, 0] % width) == (2, rf - 1)]
    expected = [(y * width + rf + x) for y, x in direction_path((2, -1))]
    assert index.path_groups[g][k, :, 0].tolist() == expected


def test_get_path_index_is_cached():
    a = get_path_index(5, (20, 30))
    assert get_path_index(5, (20, 30)) is a
    assert get_path_index(5, (21, 30)) is not a


def test_too_small_map_is_rejected():
    with pytest.raises(ValueError, match='too small'):
        PathIndex(5, (4, 30))


def test_vertical_wall_blocks_affinity():
    height, width = 16, 20
    index = PathIndex(5, (height, width))
    edges = torch.zeros(2, 1, height, width)
    edges[0, 0, :, 10] = 1.0  # wall in image 0 only
    aff = edge_to_affinity(edges, index)
    assert aff.shape == (2, 34, index.num_sources)
    assert torch.all(aff[1] == 1.0)
    src_x = index.src_indices % width
    dst_x = index.dst_indices % width
    touches = ((torch.minimum(src_x, dst_x) <= 10)
               & (torch.maximum(src_x, dst_x) >= 10))
    assert touches.any() and (~touches).any()
    assert torch.all(aff[0][touches] == 0.0)
    assert torch.all(aff[0][~touches] == 1.0)


def test_affinity_is_one_minus_path_max():
    torch.manual_seed(0)
    height, width = 10, 13
    index = PathIndex(5, (height, width))
    edges = torch.rand(1, 1, height, width)
    aff = edge_to_affinity(edges, index)
    flat = edges.view(-1)
    src = index.src_indices
    for d, (dy, dx) in enumerate(index.directions):
        path = direction_path((dy, dx))
        for s in (0, 7, src.numel() - 1):
            y, x = int(src[s]) // width, int(src[s]) % width
            peak = max(float(flat[(y + py) * width + x + px])
                       for py, px in path)
            assert aff[0, d, s].item() == pytest.approx(1.0 - peak)


def test_pair_labels():
    height, width = 9, 11
    index = PathIndex(5, (height, width))
    labels = torch.arange(height * width).view(1, height, width)
    labels = labels.repeat(2, 1, 1)
    labels[1] += 1000
    src, dst = pair_labels(labels, index)
    assert src.shape == (2, 1, index.num_sources)
    assert dst.shape == (2, 34, index.num_sources)
    assert torch.equal(src[0, 0], index.src_indices)
    assert torch.equal(dst[1], index.dst_indices + 1000)
    with pytest.raises(ValueError):
        pair_labels(labels[:, :-1], index)
