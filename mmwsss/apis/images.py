"""Image inputs of :mod:`mmwsss.apis`: a file path or a loaded array.

Arrays are H×W×3 uint8 in BGR order by default, as ``mmcv.imread`` and
``cv2.imread`` give them and ``mmseg.apis.inference_model`` takes them;
``channel_order='rgb'`` takes RGB arrays (PIL, matplotlib).
"""
import os
import os.path as osp
from typing import Union

import numpy as np

from mmwsss.utils.io import load_rgb

ImageType = Union[str, os.PathLike, np.ndarray]
CHANNEL_ORDERS = ('bgr', 'rgb')


def check_image(image: ImageType,
                channel_order: str = 'bgr') -> Union[str, np.ndarray]:
    """An existing image path, or the image as an H×W×3 uint8 BGR array
    (the form the test pipelines load).

    Raises:
        FileNotFoundError: no such image file.
        TypeError: neither a path nor an array.
        ValueError: an array that is not H×W×3 uint8, or an unknown
            ``channel_order``.
    """
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f'channel_order must be one of {CHANNEL_ORDERS}, '
                         f'got {channel_order!r}')
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        if not osp.isfile(path):
            raise FileNotFoundError(f'image not found: {path}')
        return path
    if not isinstance(image, np.ndarray):
        raise TypeError('image must be a file path or an H×W×3 uint8 array, '
                        f'got {type(image).__name__}')
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError('image must be an H×W×3 uint8 array, got '
                         f'{image.dtype} {image.shape}')
    if channel_order == 'rgb':
        image = image[..., ::-1]
    return np.ascontiguousarray(image)


def load_rgb_image(image: ImageType,
                   channel_order: str = 'bgr') -> np.ndarray:
    """The H×W×3 uint8 RGB image (for the dense CRF): a path is read as the
    tools read it (PIL), an array is taken in ``channel_order``."""
    image = check_image(image, channel_order)
    if isinstance(image, str):
        return load_rgb(image)
    return np.ascontiguousarray(image[..., ::-1])
