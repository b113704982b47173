"""CSRM's SAM refinement of pseudo-masks: class labels from segment-anything
masks (the merge rule of ``cskyl/SAM_WSSS``, method ``max_iou_imp2``, that
CSRM's ``3-sam-refinement.sh`` runs), made independent of the mask order.

The rule, for a pseudo-mask ``P`` (0 background, 1..254 classes, 255
unknown) and SAM masks ``m``:

1. **Claims.** A mask *qualifies* for a class ``c`` present in ``P`` when
   more than ``min_inside`` (0.5) of the mask lies in ``P == c``, or when
   it covers at least ``min_cover`` (0.85) of ``P == c``. Background and
   unknown pixels claim nothing (the reference loops over classes
   ``1..C-1``). A mask qualifying for several classes (by coverage of small
   regions) goes to the one it overlaps most, then the lowest class id; with
   the default ``min_inside`` the majority class is always that one. Empty
   masks claim nothing.
2. **Trimming** (the reference's ``P_i ∧ ¬U``). Class pixels covered by
   SAM masks of which none is claimed become background: SAM says they
   belong to a segment that is not that object, e.g. a CAM bleeding onto
   the neighbouring sofa. ``keep_rejected=True`` keeps their CAM label
   instead. Background and unknown pixels are never trimmed.
3. **Painting.** Every pixel of a claimed mask takes the mask's class, over
   whatever ``P`` says there (background, another class, unknown). Where
   claimed masks of different classes overlap, the **smallest** mask wins:
   the automatic generator returns nested whole / part / sub-part masks, and
   the finer one follows the local boundary (a "rider on a horse" mask
   claimed by the horse must not repaint the rider's own mask). Masks are
   ordered by area descending, then by their pixels (the bytes of the
   packed mask), which orders any two distinct masks; identical masks get
   the same class, so the result does not depend on the input order.
4. Every other pixel keeps its label from ``P``.

Differences from the reference, each a bug listed in the CSRM spec
(§1.10.9): the reference processes masks in ``os.scandir`` order and lets a
mask claimed by an earlier class escape the later classes' union, so a
later class's ``P_i ∧ ¬U`` can repaint it (here a claimed mask's pixels are
decided by claims only); it writes every unknown (255) pixel as background
(here 255 is kept unless a claimed mask covers it, so **unknown never
becomes background**); and it re-reads every mask once per class (here one
pass of counts over all masks).
"""
from typing import Optional, Tuple

import numpy as np

IGNORE_INDEX = 255
#: The reference's thresholds: a mask claims a class when more than half of
#: it lies in the class region, or it covers at least 85 % of that region.
DEFAULT_MIN_INSIDE = 0.5
DEFAULT_MIN_COVER = 0.85


def _check_inputs(label: np.ndarray, masks: np.ndarray
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """(label H×W, masks N×H×W bool) after shape checks."""
    label = np.asarray(label)
    masks = np.asarray(masks)
    if label.ndim != 2:
        raise ValueError(f'the pseudo-mask must be H×W, got {label.shape}')
    if not np.issubdtype(label.dtype, np.integer):
        raise ValueError(f'the pseudo-mask must hold integer labels, got '
                         f'{label.dtype}')
    if label.size and (label.min() < 0 or label.max() > IGNORE_INDEX):
        raise ValueError(f'pseudo-mask labels must lie in 0..{IGNORE_INDEX}, '
                         f'got {label.min()}..{label.max()}')
    if masks.ndim != 3 or masks.shape[1:] != label.shape:
        raise ValueError(f'SAM masks {masks.shape} are not N×{label.shape[0]}'
                         f'×{label.shape[1]} like the pseudo-mask')
    if masks.dtype != bool:
        masks = masks != 0
    return label, masks


def _check_thresholds(min_inside: float, min_cover: float) -> None:
    if not 0.0 <= min_inside < 1.0:
        raise ValueError(f'min_inside {min_inside} is outside [0, 1): it is '
                         'the fraction of a SAM mask that must lie in a class '
                         'region (reference: more than 0.5)')
    if not 0.0 < min_cover <= 1.0:
        raise ValueError(f'min_cover {min_cover} is outside (0, 1]: it is '
                         'the fraction of a class region a SAM mask must '
                         'cover (reference: 0.85)')


def sam_mask_owners(label: np.ndarray,
                    masks: np.ndarray,
                    min_inside: float = DEFAULT_MIN_INSIDE,
                    min_cover: float = DEFAULT_MIN_COVER) -> np.ndarray:
    """The class each SAM mask claims (step 1 of the module's rule).

    Args:
        label: H×W pseudo-mask (0 background, 1..254 classes, 255 unknown).
        masks: N×H×W binary SAM masks (bool, or non-zero = inside).
        min_inside: a mask claims a class when more than this fraction of
            its pixels lies in the class region.
        min_cover: ... or when it covers at least this fraction of the
            class region.

    Returns:
        (N,) int64: the claimed class id, 0 for an unclaimed mask.
    """
    label, masks = _check_inputs(label, masks)
    _check_thresholds(min_inside, min_cover)
    num = len(masks)
    owners = np.zeros(num, np.int64)
    flat_label = label.reshape(-1)
    counts = np.bincount(flat_label, minlength=IGNORE_INDEX + 1)
    classes = np.flatnonzero(counts[1:IGNORE_INDEX]) + 1
    if not num or not classes.size:
        return owners
    flat = masks.reshape(num, -1)
    area = np.count_nonzero(flat, axis=1)
    # N×K pixels of each mask in each class region: one pass per class
    # present (a few), each over all masks at once
    inside = np.stack([
        np.count_nonzero(flat & (flat_label == c), axis=1) for c in classes
    ], axis=1)
    with np.errstate(divide='ignore', invalid='ignore'):  # empty masks
        majority = inside / area[:, None] > min_inside
    covers = inside / counts[classes][None].astype(np.float64) >= min_cover
    qualifies = majority | covers
    # the qualifying class with the most overlap; argmax's first maximum is
    # the lowest class id, classes being sorted
    score = np.where(qualifies, inside, 0)
    best = np.argmax(score, axis=1)
    claimed = score[np.arange(num), best] > 0
    owners[claimed] = classes[best[claimed]]
    return owners


def paint_order(masks: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``indices`` of ``masks`` sorted by area descending, then by the
    masks' packed pixels: a total order on distinct masks, so painting in
    it does not depend on how the masks were listed."""
    indices = np.asarray(indices, np.int64)
    if not indices.size:
        return indices
    flat = np.asarray(masks)[indices].reshape(len(indices), -1)
    area = np.count_nonzero(flat, axis=1)
    packed = np.packbits(flat, axis=1)
    keys = [(-int(area[i]), packed[i].tobytes()) for i in range(len(flat))]
    order = sorted(range(len(flat)), key=keys.__getitem__)
    return indices[order]


def merge_sam_masks(label: np.ndarray,
                    masks: np.ndarray,
                    min_inside: float = DEFAULT_MIN_INSIDE,
                    min_cover: float = DEFAULT_MIN_COVER,
                    keep_rejected: bool = False,
                    owners: Optional[np.ndarray] = None) -> np.ndarray:
    """Refine a pseudo-mask with SAM masks (the module's rule).

    Args:
        label: H×W pseudo-mask (0 background, 1..254 classes, 255 unknown).
        masks: N×H×W binary SAM masks of the same image (bool, or non-zero
            = inside), in any order; N may be 0.
        min_inside: claim by majority: more than this fraction of the mask
            lies in the class region (reference 0.5).
        min_cover: claim by coverage: the mask covers at least this
            fraction of the class region (reference 0.85).
        keep_rejected: keep the CAM label of class pixels covered only by
            unclaimed masks; the reference (False) makes them background.
        owners: :func:`sam_mask_owners` of these inputs and thresholds,
            when the caller has it already (e.g. to report claims).

    Returns:
        H×W uint8 labels. A pixel is background only where it was
        background or a trimmed class pixel, never where ``label`` was 255.

    Raises:
        ValueError: shapes differ, labels outside 0..255, or thresholds
            outside their ranges.
    """
    label, masks = _check_inputs(label, masks)
    if owners is None:
        owners = sam_mask_owners(label, masks, min_inside, min_cover)
    owners = np.asarray(owners, np.int64)
    if owners.shape != (len(masks), ):
        raise ValueError(f'owners must be ({len(masks)},), one class per '
                         f'mask, got {owners.shape}')
    out = label.astype(np.uint8).reshape(-1)  # astype copies
    if not len(masks):
        return out.reshape(label.shape)
    flat = masks.reshape(len(masks), -1)
    if not keep_rejected:
        is_class = (out >= 1) & (out < IGNORE_INDEX)
        out[is_class & flat.any(axis=0)] = 0  # claimed pixels repainted next
    order = paint_order(masks, np.flatnonzero(owners))
    if order.size:
        stack = flat[order]  # largest first: the last mask covering wins
        covered = stack.any(axis=0)
        last = len(order) - 1 - np.argmax(stack[::-1], axis=0)
        out[covered] = owners[order][last[covered]]
    return out.reshape(label.shape)
