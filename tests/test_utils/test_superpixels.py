"""ICD superpixels: Felzenszwalb + adjacency-constrained merge, and the
superpixel file format."""
import os

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from skimage import data as skimage_data

from mmwsss.utils.superpixel_io import (read_superpixels, save_superpixels,
                                        superpixel_path)
from mmwsss.utils.superpixels import (MAX_REGIONS, felzenszwalb_regions,
                                      make_superpixels, merge_regions,
                                      raster_relabel, region_adjacency,
                                      split_connected)


def assert_partition_ok(ids: np.ndarray, max_regions: int) -> None:
    """<= max_regions ids, contiguous 0..n-1 in raster order, each region
    4-connected."""
    values = np.unique(ids)
    assert len(values) <= max_regions
    np.testing.assert_array_equal(values, np.arange(len(values)))
    for i in values:
        _, count = ndimage.label(ids == i)  # 4-connectivity
        assert count == 1, f'region {i} has {count} pieces'
    first = [np.flatnonzero(ids.ravel() == i)[0] for i in values]
    assert first == sorted(first)


def stripes(widths, colours, height=20):
    """Vertical stripes: (labels, uint8 image)."""
    labels = np.concatenate(
        [np.full((height, w), i) for i, w in enumerate(widths)], 1)
    image = np.asarray(colours, np.uint8)[labels]
    return labels, image


def test_merge_never_joins_non_adjacent_regions():
    # A (small, red) touches only B (blue); C (red) is A's nearest colour
    # but not adjacent: A must go into B. An adjacency-blind merge (the
    # reference's) would join A and C.
    labels, image = stripes([2, 10, 10], [(250, 0, 0), (0, 0, 250),
                                          (250, 0, 0)])
    out = merge_regions(labels, image, max_regions=2)
    assert len(np.unique(out)) == 2
    assert (out[:, :12] == out[0, 0]).all()  # A ∪ B
    assert (out[:, 12:] != out[0, 0]).all()  # C apart


def test_merge_takes_the_nearest_adjacent_colour():
    # B (small, mid-grey) lies between A (black) and C (light grey): it
    # goes into C, the nearer colour, then nothing else merges.
    labels, image = stripes([10, 3, 10], [(0, 0, 0), (150, 150, 150),
                                          (200, 200, 200)])
    out = merge_regions(labels, image, max_regions=2)
    assert (out[:, :10] == 0).all() and (out[:, 10:] == 1).all()


def test_merge_smallest_first_and_stats_updated():
    # sizes 4, 6, 8 (x20 rows): with 2 kept the 4-wide stripe goes first;
    # with 1 kept everything ends in one region
    labels, image = stripes([6, 4, 8], [(0, 0, 0), (90, 90, 90),
                                        (100, 100, 100)])
    out = merge_regions(labels, image, max_regions=2)
    assert (out[:, :6] == 0).all() and (out[:, 6:] == 1).all()
    assert (merge_regions(labels, image, max_regions=1) == 0).all()


def test_merge_leaves_few_regions_alone_but_renumbers():
    labels = np.array([[5, 5, 2], [7, 7, 2]])
    out = merge_regions(labels, np.zeros((2, 3, 3), np.uint8), 4)
    np.testing.assert_array_equal(out, [[0, 0, 1], [2, 2, 1]])


def test_split_connected_separates_diagonal_touches():
    labels = np.array([[0, 1], [1, 0]])
    out, n = split_connected(labels)
    assert n == 4
    np.testing.assert_array_equal(out, [[0, 1], [2, 3]])


def test_region_adjacency_is_4_connected():
    labels = np.array([[0, 0, 1], [2, 3, 1]])
    nb = region_adjacency(labels, 4)
    assert nb == [{1, 2, 3}, {0, 3}, {0, 3}, {0, 1, 2}]


def test_raster_relabel():
    out, n = raster_relabel(np.array([[9, 3], [3, 4]]))
    assert n == 3
    np.testing.assert_array_equal(out, [[0, 1], [1, 2]])


@pytest.mark.parametrize('name', ['astronaut', 'chelsea'])
def test_photo_superpixels_are_valid_and_deterministic(name):
    image = getattr(skimage_data, name)()[:200, :260]
    regions = felzenszwalb_regions(image)
    assert regions.max() + 1 > MAX_REGIONS  # the merge has work to do
    sp = make_superpixels(image)
    assert sp.dtype == np.uint8 and sp.shape == image.shape[:2]
    assert sp.max() + 1 == MAX_REGIONS
    assert_partition_ok(sp, MAX_REGIONS)
    # each superpixel is a union of Felzenszwalb regions
    for r in np.unique(regions):
        assert len(np.unique(sp[regions == r])) == 1
    np.testing.assert_array_equal(make_superpixels(image.copy()), sp)


def test_noise_image_and_other_caps():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    for cap in (1, 5, 64):
        sp = make_superpixels(image, max_regions=cap, min_size=5)
        assert_partition_ok(sp, cap)


def test_end_to_end_merge_respects_adjacency():
    # Felzenszwalb finds the three flat stripes; the narrow red one joins
    # its blue neighbour, not the distant red stripe
    _, image = stripes([8, 24, 28], [(250, 0, 0), (0, 0, 250),
                                     (250, 0, 0)], height=30)
    assert felzenszwalb_regions(image).max() + 1 == 3
    sp = make_superpixels(image, max_regions=2)
    assert (sp[:, :32] == 0).all() and (sp[:, 32:] == 1).all()


def test_bad_inputs():
    with pytest.raises(ValueError, match='uint8 RGB'):
        make_superpixels(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match='max_regions'):
        make_superpixels(np.zeros((4, 4, 3), np.uint8), max_regions=0)


def test_file_round_trip_and_reference_layout(tmp_path):
    ids = np.arange(12, dtype=np.uint8).reshape(3, 4) % 7
    path = superpixel_path(str(tmp_path), 'a')
    assert path.endswith('a.png')
    save_superpixels(path, ids)
    np.testing.assert_array_equal(read_superpixels(path), ids)
    with Image.open(path) as img:
        assert img.mode == 'L'
    assert os.listdir(tmp_path) == ['a.png']  # no temporary file left
    # the reference's 24-bit files hold the ids in the blue channel
    rgb = np.zeros((3, 4, 3), np.uint8)
    rgb[..., 2] = ids
    rgb[..., 0] = 99
    Image.fromarray(rgb).save(tmp_path / 'ref.png')
    np.testing.assert_array_equal(
        read_superpixels(str(tmp_path / 'ref.png')), ids)


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.png.*'
                       'make_superpixels'):
        read_superpixels(str(tmp_path / 'missing.png'))
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not a png')
    with pytest.raises(OSError, match='bad.png'):
        read_superpixels(str(bad))
    with pytest.raises(ValueError, match='0..255'):
        save_superpixels(str(tmp_path / 'x.png'), np.full((2, 2), 300))
