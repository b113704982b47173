"""Pseudo segmentation masks from CAMs (threshold, optional dense CRF).

Used by ``tools/make_pseudo_masks.py``; each function does one step so the
tool, the tests and later methods (e.g. saliency or random-walk backgrounds)
can reuse them.
"""
from typing import Optional, Union

import numpy as np

from mmwsss.crf import DenseCRF, build_dense_crf
from mmwsss.utils.cam_utils import cams_to_index, index_to_label

IGNORE_INDEX = 255


def make_pseudo_mask(cams: np.ndarray,
                     keys: np.ndarray,
                     bg_threshold: float,
                     image: Optional[np.ndarray] = None,
                     crf: Union[None, dict, DenseCRF] = None,
                     gt_prob: float = 0.7) -> np.ndarray:
    """H×W uint8 class-id mask from one image's CAMs.

    Steps: background score ``bg_threshold`` → argmax map index → optional
    :meth:`DenseCRF.infer_labels` on the indices (``n_labels = K + 1``) →
    class ids. No pixel is set to 255 (ignore) by this function; callers
    adding uncertain regions use :data:`IGNORE_INDEX`.

    Args:
        cams: K×H×W CAMs in [0, 1].
        keys: K class ids (1..254).
        bg_threshold: constant background score.
        image: H×W×3 uint8 RGB; required with ``crf``.
        crf: None, a :class:`DenseCRF`, or its config dict.
        gt_prob: label confidence for the CRF unary.
    """
    cams = np.asarray(cams)
    keys = np.asarray(keys, dtype=np.int64).reshape(-1)
    if keys.size and (keys.min() < 1 or keys.max() >= IGNORE_INDEX):
        raise ValueError(f'class ids must lie in 1..{IGNORE_INDEX - 1}, '
                         f'got {keys.tolist()}')
    index = cams_to_index(cams, bg_threshold)
    crf = build_dense_crf(crf)
    if crf is not None and len(keys):
        if image is None:
            raise ValueError('the CRF needs the image')
        if tuple(image.shape[:2]) != tuple(cams.shape[1:]):
            raise ValueError(f'image size {tuple(image.shape[:2])} != CAM '
                             f'size {tuple(cams.shape[1:])}')
        index = crf.infer_labels(
            image, index, n_labels=len(keys) + 1, gt_prob=gt_prob)
    return index_to_label(index, keys).astype(np.uint8)
