"""CAM heat-map overlays for inspection (demo, debugging)."""
from typing import Sequence

import cv2
import numpy as np


def overlay_cams(image_rgb: np.ndarray,
                 cams: np.ndarray,
                 keys: Sequence[int],
                 class_names: Sequence[str],
                 alpha: float = 0.5) -> np.ndarray:
    """Tile the image and one JET heat-map overlay per CAM side by side.

    Args:
        image_rgb: H×W×3 uint8 image.
        cams: K×H×W maps in [0, 1].
        keys: segmentation class id of each map (indexes ``class_names``).
        class_names: names including 'background' at index 0.
        alpha: heat-map opacity.

    Returns:
        H×(W·(K+1))×3 uint8 RGB image with class names written on the tiles.
    """
    if cams.shape[1:] != image_rgb.shape[:2]:
        raise ValueError(f'CAMs {cams.shape[1:]} and image '
                         f'{image_rgb.shape[:2]} differ in size')
    tiles = [image_rgb]
    for cam, key in zip(cams, keys):
        heat = cv2.applyColorMap(
            np.uint8(np.clip(cam, 0, 1) * 255), cv2.COLORMAP_JET)
        heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB)
        tile = np.uint8((1 - alpha) * image_rgb + alpha * heat)
        name = class_names[int(key)] if int(key) < len(class_names) else \
            str(int(key))
        scale = max(0.3, image_rgb.shape[1] / 320)
        cv2.putText(tile, name, (2, int(12 * scale) + 2),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
        tiles.append(tile)
    return np.concatenate(tiles, axis=1)
