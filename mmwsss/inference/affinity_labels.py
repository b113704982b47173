"""Affinity labels: confident foreground / background / ignore maps that
train AffinityNet (README: random walk).

A label map holds a class id where the (CRF-refined) CAMs are confident,
0 where the image is confidently background and :data:`IGNORE_INDEX` (255)
elsewhere. Two recipes:

* :func:`affinity_label_with_saliency` — the P-NOC method: a saliency map
  thresholded at ``bg_threshold`` and refined by a 2-label CRF says where the
  foreground is; the CAMs, with a background score ``fg_threshold`` and gated
  by that saliency, are refined by a second CRF and name the classes.
  Salient pixels without a confident class become 255. (The paper describes
  only the two thresholds, not the two CRF passes; README: random walk.)
* :func:`affinity_label_from_cams` — the IRN/AffinityNet baseline without
  saliency: CAMs with a high background score (``fg_threshold``) give the
  confident foreground, with a low one (``bg_threshold``) the confident
  background; both CRF-refined.

Images without any CAM (K = 0) get an all-background map: the reference
writes no file for them, and its affinity training skips images without a
class, so the training set is the same (ours skips them through
``skip_background_only``) while every image of a split keeps a label file.
"""
from typing import Optional, Union

import numpy as np

from mmwsss.crf import DenseCRF, build_dense_crf
from mmwsss.utils.cam_utils import cams_to_index, index_to_label
from .pseudo_masks import IGNORE_INDEX, make_pseudo_mask

CRFArg = Union[None, dict, DenseCRF]

#: Reference values of the HEAD runner (``3-rw.sh``).
DEFAULT_FG_THRESHOLD = 0.40
DEFAULT_BG_THRESHOLD = 0.10
DEFAULT_CRF = dict(preset='crf_label')  # 10 iterations (the reference's t)
DEFAULT_GT_PROB = 0.7


def _check_inputs(cams: np.ndarray, keys: np.ndarray,
                  image: Optional[np.ndarray],
                  saliency: Optional[np.ndarray]) -> None:
    if cams.ndim != 3:
        raise ValueError(f'cams must be K×H×W, got shape {cams.shape}')
    if len(keys) != cams.shape[0]:
        raise ValueError(f'{len(keys)} keys for {cams.shape[0]} CAMs')
    if keys.size and (keys.min() < 1 or keys.max() >= IGNORE_INDEX):
        raise ValueError(f'class ids must lie in 1..{IGNORE_INDEX - 1}, '
                         f'got {keys.tolist()}')
    size = tuple(cams.shape[1:])
    if image is not None and tuple(image.shape[:2]) != size:
        raise ValueError(f'image size {tuple(image.shape[:2])} != CAM size '
                         f'{size}')
    if saliency is not None:
        if tuple(saliency.shape) != size:
            raise ValueError(f'saliency size {tuple(saliency.shape)} != CAM '
                             f'size {size}')
        if saliency.size and (saliency.min() < 0 or saliency.max() > 1):
            raise ValueError('saliency must lie in [0, 1] (divide 8-bit maps '
                             f'by 255), got {saliency.min()}..'
                             f'{saliency.max()}')


def _combine(fg_label: np.ndarray, bg_evidence: np.ndarray) -> np.ndarray:
    """``fg_label`` with its background turned into ignore, except where
    ``bg_evidence`` is 0 too (confident background)."""
    out = fg_label.astype(np.uint8)
    out[fg_label == 0] = IGNORE_INDEX
    out[(fg_label == 0) & (bg_evidence == 0)] = 0
    return out


def affinity_label_from_cams(cams: np.ndarray,
                             keys: np.ndarray,
                             image: Optional[np.ndarray],
                             fg_threshold: float = DEFAULT_FG_THRESHOLD,
                             bg_threshold: float = DEFAULT_BG_THRESHOLD,
                             crf: CRFArg = DEFAULT_CRF,
                             gt_prob: float = DEFAULT_GT_PROB) -> np.ndarray:
    """IRN-style affinity label from CAMs alone (no saliency).

    ``fg = crf(argmax[fg_threshold, cams])``,
    ``bg = crf(argmax[bg_threshold, cams])``; the label is ``fg``'s class
    where it has one, 0 where both say background, 255 elsewhere.

    Args:
        cams: K×H×W CAMs in [0, 1].
        keys: K class ids (1..254).
        image: H×W×3 uint8 RGB (needed with a CRF).
        fg_threshold: background score of the confident-foreground map.
        bg_threshold: background score of the confident-background map
            (lower: more pixels claimed by some class).
        crf: None (no CRF), a :class:`DenseCRF` or its config dict.
        gt_prob: label confidence of the CRF unary.

    Returns:
        H×W uint8 map: class ids, 0 = background, 255 = ignore.
    """
    cams = np.asarray(cams)
    keys = np.asarray(keys, dtype=np.int64).reshape(-1)
    _check_inputs(cams, keys, image, None)
    if not len(keys):
        return np.zeros(cams.shape[1:], np.uint8)
    crf = build_dense_crf(crf)
    fg = make_pseudo_mask(cams, keys, fg_threshold, image, crf, gt_prob)
    bg = make_pseudo_mask(cams, keys, bg_threshold, image, crf, gt_prob)
    return _combine(fg, bg)


def affinity_label_with_saliency(cams: np.ndarray,
                                 keys: np.ndarray,
                                 saliency: np.ndarray,
                                 image: Optional[np.ndarray],
                                 fg_threshold: float = DEFAULT_FG_THRESHOLD,
                                 bg_threshold: float = DEFAULT_BG_THRESHOLD,
                                 crf: CRFArg = DEFAULT_CRF,
                                 gt_prob: float = DEFAULT_GT_PROB
                                 ) -> np.ndarray:
    """P-NOC affinity label: saliency-gated, twice CRF-refined CAMs.

    ``salient = crf2(saliency > bg_threshold)``;
    ``index = argmax[fg_threshold, cams] · salient``;
    ``fg = keys[crf(index)]``. The label is ``fg``'s class where it has one,
    0 where both ``salient`` and ``fg`` are background, 255 elsewhere (a
    salient pixel without a confident class).

    Args:
        saliency: H×W saliency in [0, 1] (a PoolNet PNG / 255).
        Others: as :func:`affinity_label_from_cams`.

    Returns:
        H×W uint8 map: class ids, 0 = background, 255 = ignore.
    """
    cams = np.asarray(cams)
    keys = np.asarray(keys, dtype=np.int64).reshape(-1)
    saliency = np.asarray(saliency)
    _check_inputs(cams, keys, image, saliency)
    if not len(keys):
        return np.zeros(cams.shape[1:], np.uint8)
    crf = build_dense_crf(crf)
    if crf is not None and image is None:
        raise ValueError('the CRF needs the image')
    salient = (saliency > bg_threshold).astype(np.int64)
    if crf is not None:
        salient = crf.infer_labels(image, salient, n_labels=2, gt_prob=gt_prob)
    index = cams_to_index(cams, fg_threshold) * salient
    if crf is not None:
        index = crf.infer_labels(
            image, index, n_labels=len(keys) + 1, gt_prob=gt_prob)
    fg = index_to_label(index, keys)
    return _combine(fg, salient)


def make_affinity_label(cams: np.ndarray,
                        keys: np.ndarray,
                        image: Optional[np.ndarray],
                        saliency: Optional[np.ndarray] = None,
                        fg_threshold: float = DEFAULT_FG_THRESHOLD,
                        bg_threshold: float = DEFAULT_BG_THRESHOLD,
                        crf: CRFArg = DEFAULT_CRF,
                        gt_prob: float = DEFAULT_GT_PROB) -> np.ndarray:
    """:func:`affinity_label_with_saliency` when ``saliency`` is given,
    :func:`affinity_label_from_cams` otherwise."""
    if saliency is None:
        return affinity_label_from_cams(cams, keys, image, fg_threshold,
                                        bg_threshold, crf, gt_prob)
    return affinity_label_with_saliency(cams, keys, saliency, image,
                                        fg_threshold, bg_threshold, crf,
                                        gt_prob)
