"""CSRM's SAM merge rule (mmwsss.inference.sam_merge) on hand-made masks,
and against a per-pixel loop written from the rule's text."""
import numpy as np
import pytest

from mmwsss.inference.sam_merge import (merge_sam_masks, paint_order,
                                        sam_mask_owners)

U = 255  # unknown


def box(shape, rows, cols):
    """A bool mask of ``shape`` with the rectangle rows × cols set."""
    mask = np.zeros(shape, bool)
    mask[rows[0]:rows[1], cols[0]:cols[1]] = True
    return mask


def test_claim_by_majority_inside():
    label = np.zeros((10, 10), np.uint8)
    label[:, :5] = 3  # class 3: 50 pixels
    # 6 of 10 pixels inside class 3, 12 % of the region: claimed by majority
    claimed = box(label.shape, (0, 2), (2, 7))
    # exactly half inside: "more than half" fails, and 10 % coverage too
    half = box(label.shape, (5, 7), (3, 8))
    masks = np.stack([claimed, half])
    assert sam_mask_owners(label, masks).tolist() == [3, 0]
    out = merge_sam_masks(label, masks, keep_rejected=True)
    expected = label.copy()
    expected[claimed] = 3  # the mask's pixels outside the region join it
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.uint8


def test_claim_by_coverage():
    label = np.zeros((20, 20), np.uint8)
    label[0:4, 0:5] = 7  # class 7: 20 pixels
    # a mask mostly on background covering 17 of 20 pixels (85 %): claimed
    cover = box(label.shape, (0, 20), (0, 5))
    cover[3, 2:5] = False
    assert np.count_nonzero(cover & (label == 7)) == 17
    assert sam_mask_owners(label, cover[None]).tolist() == [7]
    # 16 of 20 (80 %): neither rule
    less = cover.copy()
    less[2, 4] = False
    assert sam_mask_owners(label, less[None]).tolist() == [0]
    out = merge_sam_masks(label, cover[None])
    # the mask becomes class 7; the class pixels it misses are under no SAM
    # mask, so they keep their class
    np.testing.assert_array_equal(out, np.where(cover | (label == 7), 7, 0))
    # the thresholds are parameters
    assert sam_mask_owners(label, less[None], min_cover=0.8).tolist() == [7]


def test_unclaimed_pixels_keep_their_labels():
    label = np.array([[0, 1, 1, U],
                      [0, 1, 1, U],
                      [2, 2, 0, 0]], np.uint8)
    mask = np.zeros((1, 3, 4), bool)
    mask[0, 0:2, 1:3] = True  # exactly class 1: claimed
    out = merge_sam_masks(label, mask)
    np.testing.assert_array_equal(out, label)  # nothing to change
    # no masks at all, and masks but no class: the labels come back as is
    np.testing.assert_array_equal(
        merge_sam_masks(label, np.zeros((0, 3, 4), bool)), label)
    no_class = np.array([[0, U], [U, 0]], np.uint8)
    assert sam_mask_owners(no_class, np.ones((2, 2, 2), bool)).tolist() == [
        0, 0
    ]
    np.testing.assert_array_equal(
        merge_sam_masks(no_class, np.ones((2, 2, 2), bool)), no_class)


def test_rejected_masks_trim_class_pixels_unless_kept():
    """The reference's P_i ∧ ¬U: class pixels under a SAM mask no class
    claims become background; background and unknown stay."""
    label = np.zeros((4, 8), np.uint8)
    label[:, :4] = 1
    label[0, 7] = U
    # a segment mostly outside class 1 (the CAM bleeding onto it)
    bleed = box(label.shape, (0, 4), (3, 8))
    assert sam_mask_owners(label, bleed[None]).tolist() == [0]
    out = merge_sam_masks(label, bleed[None])
    expected = label.copy()
    expected[:, 3] = 0
    np.testing.assert_array_equal(out, expected)
    assert out[0, 7] == U
    kept = merge_sam_masks(label, bleed[None], keep_rejected=True)
    np.testing.assert_array_equal(kept, label)


def test_unknown_never_becomes_background():
    label = np.full((6, 6), U, np.uint8)
    label[:3, :3] = 4
    label[4:, 4:] = 0
    rejected = box(label.shape, (2, 6), (2, 6))  # mostly unknown
    claimed = box(label.shape, (0, 4), (0, 3))  # 9 of 12 inside class 4
    masks = np.stack([rejected, claimed])
    assert sam_mask_owners(label, masks).tolist() == [0, 4]
    for keep in (False, True):
        out = merge_sam_masks(label, masks, keep_rejected=keep)
        # unknown under a claimed mask takes its class; elsewhere stays
        assert (out[3, :3] == 4).all()
        assert out[2, 2] == 4  # class pixel under both masks
        was_unknown = label == U
        assert not (out[was_unknown] == 0).any()
        assert (out[was_unknown & ~claimed] == U).all()


def test_largest_overlap_wins_a_mask_covering_several_classes():
    label = np.zeros((10, 10), np.uint8)
    label[0, 0:2] = 5  # 2 pixels
    label[9, 0:3] = 2  # 3 pixels
    label[5, 5:7] = 8  # 2 pixels
    everything = np.ones((1, 10, 10), bool)  # covers 100 % of each class
    assert sam_mask_owners(label, everything).tolist() == [2]
    label[9, 2] = 0  # now classes 2, 5 and 8 overlap it by 2: lowest id
    assert sam_mask_owners(label, everything).tolist() == [2]
    label[9, 0:2] = 0
    assert sam_mask_owners(label, everything).tolist() == [5]


def test_smallest_claimed_mask_wins_overlaps():
    """A rider (class 15) on a horse (class 13): SAM's horse+rider mask is
    claimed by the horse, the rider's own mask by the rider."""
    label = np.zeros((12, 12), np.uint8)
    label[6:12, 0:12] = 13
    label[2:6, 4:8] = 15
    whole = box(label.shape, (2, 12), (0, 12))
    rider = box(label.shape, (1, 6), (4, 8))
    masks = np.stack([rider, whole])
    assert sam_mask_owners(label, masks).tolist() == [15, 13]
    out = merge_sam_masks(label, masks)
    assert (out[rider] == 15).all()
    assert (out[whole & ~rider] == 13).all()
    # listed the other way round: the same
    np.testing.assert_array_equal(merge_sam_masks(label, masks[::-1]), out)


def test_claimed_mask_is_not_repainted_by_another_class():
    """Reference bug (spec §1.10.9): a mask claimed by class 1 was left out
    of class 2's union, so class 2's CAM pixels inside it stayed 2."""
    label = np.zeros((4, 10), np.uint8)
    label[:, 0:6] = 1
    label[:, 6:8] = 2
    label[:, 8:10] = 2
    mask = box(label.shape, (0, 4), (0, 8))  # 24 of 32 in class 1
    out = merge_sam_masks(label, mask[None])
    assert (out[:, :8] == 1).all() and (out[:, 8:] == 2).all()


def test_equal_area_overlaps_and_duplicates_do_not_depend_on_order():
    label = np.zeros((6, 6), np.uint8)
    label[:, :3] = 1
    label[:, 3:] = 2
    left = box(label.shape, (0, 6), (0, 4))  # 18 of 24 in class 1
    right = box(label.shape, (0, 6), (2, 6))  # 18 of 24 in class 2
    masks = np.stack([left, right, left, right])
    assert sam_mask_owners(label, masks).tolist() == [1, 2, 1, 2]
    first = merge_sam_masks(label, masks)
    for perm in ([1, 0], [0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]):
        np.testing.assert_array_equal(merge_sam_masks(label, masks[perm]),
                                      first)
    # equal areas are ordered by their pixels, not by their position
    assert sorted(paint_order(masks, [0, 1]).tolist()) == [0, 1]
    np.testing.assert_array_equal(
        masks[paint_order(masks, [0, 1])], masks[paint_order(masks, [1, 0])])


def test_empty_masks_claim_nothing():
    label = np.ones((3, 3), np.uint8)
    masks = np.zeros((2, 3, 3), bool)
    assert sam_mask_owners(label, masks).tolist() == [0, 0]
    np.testing.assert_array_equal(merge_sam_masks(label, masks), label)


def test_integer_masks_and_labels():
    label = np.array([[0, 3], [3, 3]], np.int64)
    masks = np.array([[[0, 255], [0, 0]]], np.uint8)
    assert sam_mask_owners(label, masks).tolist() == [3]


def test_errors():
    label = np.zeros((4, 5), np.uint8)
    with pytest.raises(ValueError, match='N×4×5'):
        merge_sam_masks(label, np.zeros((2, 5, 4), bool))
    with pytest.raises(ValueError, match='H×W'):
        merge_sam_masks(label[None], np.zeros((2, 4, 5), bool))
    with pytest.raises(ValueError, match='0..255'):
        merge_sam_masks(np.full((4, 5), 300), np.zeros((0, 4, 5), bool))
    with pytest.raises(ValueError, match='integer'):
        merge_sam_masks(label.astype(float), np.zeros((0, 4, 5), bool))
    with pytest.raises(ValueError, match='min_inside'):
        sam_mask_owners(label, np.zeros((1, 4, 5), bool), min_inside=1.0)
    with pytest.raises(ValueError, match='min_cover'):
        sam_mask_owners(label, np.zeros((1, 4, 5), bool), min_cover=0.0)
    with pytest.raises(ValueError, match='owners'):
        merge_sam_masks(label, np.zeros((2, 4, 5), bool), owners=[1])


def loop_merge(label, masks, min_inside=0.5, min_cover=0.85,
               keep_rejected=False):
    """The rule of the module docstring, one mask and one pixel at a
    time."""
    owners = []
    classes = [c for c in range(1, 255) if (label == c).any()]
    for m in masks:
        best, best_inside = 0, 0
        for c in classes:
            inside = int((m & (label == c)).sum())
            ok = (m.sum() and inside / m.sum() > min_inside) or \
                inside / (label == c).sum() >= min_cover
            if ok and inside > best_inside:
                best, best_inside = c, inside
        owners.append(best)
    claimed = [n for n in range(len(masks)) if owners[n]]
    # paint order: area descending, then the packed pixels
    claimed.sort(key=lambda n: (-int(masks[n].sum()),
                                np.packbits(masks[n].reshape(-1)).tobytes()))
    out = label.copy()
    for y in range(label.shape[0]):
        for x in range(label.shape[1]):
            winners = [n for n in claimed if masks[n][y, x]]
            if winners:
                out[y, x] = owners[winners[-1]]
            elif (not keep_rejected and 1 <= label[y, x] <= 254
                  and masks[:, y, x].any()):
                out[y, x] = 0
    return out


@pytest.mark.parametrize('seed', range(6))
def test_matches_the_loop_and_any_mask_order(seed):
    rng = np.random.default_rng(seed)
    h, w = 14, 17
    label = np.zeros((h, w), np.uint8)
    for c in rng.choice(np.arange(1, 21), 3, replace=False):
        y, x = rng.integers(0, h - 3), rng.integers(0, w - 3)
        label[y:y + rng.integers(2, 8), x:x + rng.integers(2, 8)] = c
    label[rng.random((h, w)) < 0.1] = U
    masks = []
    for _ in range(25):
        y, x = rng.integers(0, h - 1), rng.integers(0, w - 1)
        masks.append(box((h, w), (y, y + rng.integers(1, 9)),
                         (x, x + rng.integers(1, 9))))
    masks.append(masks[3].copy())  # a duplicate
    masks.append(label == label.max())  # one region exactly
    masks = np.stack(masks)
    for keep in (False, True):
        expected = loop_merge(label, masks, keep_rejected=keep)
        out = merge_sam_masks(label, masks, keep_rejected=keep)
        np.testing.assert_array_equal(out, expected)
        assert not (out[label == U] == 0).any()
        for _ in range(3):
            perm = rng.permutation(len(masks))
            np.testing.assert_array_equal(
                merge_sam_masks(label, masks[perm], keep_rejected=keep), out)
