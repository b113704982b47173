"""The pseudo-mask of one image from its CAMs (or random-walk maps)."""
import os
from typing import Optional, Union

import numpy as np

from mmwsss.apis.images import ImageType, load_rgb_image
from mmwsss.crf import DenseCRF
from mmwsss.inference import pseudo_masks
from mmwsss.utils.cam_io import CAMData, read_cam


def make_pseudo_mask(cams: Union[CAMData, str, os.PathLike],
                     threshold: float,
                     image: Optional[ImageType] = None,
                     crf: Union[None, str, dict, DenseCRF] = None,
                     gt_prob: float = 0.7,
                     channel_order: str = 'bgr') -> np.ndarray:
    """H×W uint8 class-id mask of one image, as
    ``tools/make_pseudo_masks.py`` makes it: the maps against a constant
    background score ``threshold``, argmax, optionally refined by a dense
    CRF (:func:`mmwsss.inference.pseudo_masks.make_pseudo_mask`).

    Args:
        cams: the maps (:func:`~mmwsss.apis.infer_cams`'s result, or a CAM
            or random-walk file of the format of
            :mod:`mmwsss.utils.cam_io`).
        threshold: background score in [0, 1] (P-NOC: 0.3 for CAMs).
        image: the image, for the CRF: a file, or an H×W×3 uint8 array in
            ``channel_order`` (BGR by default, as for
            :func:`~mmwsss.apis.infer_cams`).
        crf: None (no CRF), a :class:`~mmwsss.crf.DenseCRF`, its config
            dict, or a preset name (``'crf_label'``, the tool's default).
        gt_prob: label confidence of the CRF unary.
        channel_order: ``'bgr'`` or ``'rgb'``, for arrays.

    Returns:
        Class ids (0 background, the maps' keys elsewhere); no pixel is 255.

    Raises:
        ValueError: threshold outside [0, 1], class ids outside 1..254, a
            CRF without image, or an image of another size than the maps.
    """
    if isinstance(cams, (str, os.PathLike)):
        cams = read_cam(os.fspath(cams))
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f'threshold {threshold} is outside [0, 1]: it is '
                         'the background score against maps normalised to '
                         '[0, 1] (P-NOC: 0.3)')
    if isinstance(crf, str):
        crf = dict(preset=crf)
    rgb = None
    if crf is not None:
        if image is None:
            raise ValueError('the CRF needs the image')
        rgb = load_rgb_image(image, channel_order)
    return pseudo_masks.make_pseudo_mask(
        cams.cams, cams.keys, threshold, image=rgb, crf=crf, gt_prob=gt_prob)
