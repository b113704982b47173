"""Pseudo-saliency masks from saliency maps (their file format is
:mod:`mmwsss.utils.saliency_io`)."""
from typing import Optional, Union

import numpy as np

from mmwsss.crf import DenseCRF, build_dense_crf
from mmwsss.utils.cam_utils import cams_to_index
from mmwsss.utils.saliency_io import FOREGROUND


def make_pseudo_saliency(saliency: np.ndarray,
                         threshold: float = 0.2,
                         image: Optional[np.ndarray] = None,
                         crf: Union[None, dict, DenseCRF] = None,
                         gt_prob: float = 0.7) -> np.ndarray:
    """H×W uint8 pseudo-saliency mask (0 / 255) from a saliency map.

    A pixel is salient when ``saliency > threshold`` (the reference's
    argmax over ``[threshold, s]``: ties are background); the optional
    dense CRF refines the two labels (:meth:`DenseCRF.infer_labels`,
    P-NOC: preset ``crf_label``, 10 iterations, gt_prob 0.7).

    Args:
        saliency: H×W map in [0, 1].
        threshold: foreground threshold (reference 0.2).
        image: H×W×3 uint8 RGB; required with ``crf``.
        crf: None, a :class:`DenseCRF` or its config dict.
        gt_prob: label confidence of the CRF unary.
    """
    saliency = np.asarray(saliency, np.float32)
    if saliency.ndim != 2:
        raise ValueError(f'saliency must be H×W, got {saliency.shape}')
    index = cams_to_index(saliency[None], threshold)
    crf = build_dense_crf(crf)
    if crf is not None:
        if image is None:
            raise ValueError('the CRF needs the image')
        if tuple(image.shape[:2]) != saliency.shape:
            raise ValueError(f'image size {tuple(image.shape[:2])} != '
                             f'saliency size {saliency.shape}')
        index = crf.infer_labels(image, index, n_labels=2, gt_prob=gt_prob)
    return (np.asarray(index) > 0).astype(np.uint8) * FOREGROUND
