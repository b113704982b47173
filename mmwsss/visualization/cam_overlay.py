"""CAM heat-map overlays for inspection (demo, debugging, reports)."""
from typing import Optional, Sequence

import cv2
import numpy as np

from .colorize import colorize_label
from .panels import MIN_TILE_HEIGHT, compose_row


def class_name(class_names: Sequence[str], key: int) -> str:
    """Name of class ``key`` (its number when ``class_names`` lacks it)."""
    key = int(key)
    return class_names[key] if 0 <= key < len(class_names) else str(key)


def heatmap_overlay(image_rgb: np.ndarray, cam: np.ndarray,
                    alpha: float = 0.5) -> np.ndarray:
    """``image_rgb`` blended with the JET colouring of ``cam``.

    Args:
        image_rgb: H×W×3 uint8 image.
        cam: map in [0, 1]; resized (bilinear) to H×W when it differs.
        alpha: heat-map opacity.
    """
    h, w = image_rgb.shape[:2]
    cam = np.asarray(cam, np.float32)
    if cam.shape != (h, w):
        cam = cv2.resize(cam, (w, h), interpolation=cv2.INTER_LINEAR)
    heat = cv2.applyColorMap(
        np.uint8(np.clip(cam, 0, 1) * 255), cv2.COLORMAP_JET)
    heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB)
    return np.uint8((1 - alpha) * image_rgb + alpha * heat)


def max_cam(cams: np.ndarray) -> np.ndarray:
    """Per-pixel maximum over the K×H×W maps (zeros when K = 0): one map
    showing every class's activation."""
    cams = np.asarray(cams, np.float32)
    if cams.shape[0] == 0:
        return np.zeros(cams.shape[1:], np.float32)
    return cams.max(axis=0)


def overlay_cams(image_rgb: np.ndarray,
                 cams: np.ndarray,
                 keys: Sequence[int],
                 class_names: Sequence[str],
                 alpha: float = 0.5,
                 gt: Optional[np.ndarray] = None,
                 palette: Optional[np.ndarray] = None,
                 min_height: int = MIN_TILE_HEIGHT) -> np.ndarray:
    """The image, optionally its ground truth, and one JET heat-map overlay
    per CAM side by side, each captioned above (see
    :func:`~mmwsss.visualization.panels.compose_row`).

    Args:
        image_rgb: H×W×3 uint8 image.
        cams: K×H×W maps in [0, 1].
        keys: segmentation class id of each map (indexes ``class_names``).
        class_names: names including 'background' at index 0.
        alpha: heat-map opacity.
        gt: optional H×W label map, shown coloured after the image.
        palette: N×3 class colours of ``gt`` (default: the VOC colour map).
        min_height: small images are enlarged to this height first.

    Returns:
        uint8 RGB image: K+1 (K+2 with ``gt``) captioned tiles of at least
        ``min_height`` pixels each.
    """
    if cams.shape[1:] != image_rgb.shape[:2]:
        raise ValueError(f'CAMs {cams.shape[1:]} and image '
                         f'{image_rgb.shape[:2]} differ in size')
    tiles = [('image', image_rgb)]
    if gt is not None:
        tiles.append(('GT', colorize_label(gt, palette)))
    for cam, key in zip(cams, keys):
        tiles.append((class_name(class_names, key),
                      heatmap_overlay(image_rgb, cam, alpha)))
    return compose_row(tiles, min_height)
