"""Label maps as colour images, in the data set's palette."""
from typing import Optional, Sequence

import numpy as np

from mmwsss.utils.io import check_label_map
from mmwsss.utils.palette import palette_over, voc_palette

#: Label value of unlabelled pixels (VOC borders, pseudo-mask holes).
IGNORE_INDEX = 255
#: Colour of ignored pixels: white, which no class of the VOC colour map
#: (``make_palette``) has, so it never reads as a class.
IGNORE_COLOUR = (255, 255, 255)


def label_palette(colours: Optional[Sequence[Sequence[int]]] = None
                  ) -> np.ndarray:
    """256×3 uint8 palette: ``colours`` (a data set's metainfo palette,
    N×3; default none) over the VOC colour map that every data set of the
    project uses (:func:`mmwsss.utils.palette.make_palette`), so a label
    past the data set's classes still gets a colour."""
    return palette_over(colours, voc_palette())


def colorize_label(label: np.ndarray,
                   palette: Optional[np.ndarray] = None,
                   ignore_index: int = IGNORE_INDEX,
                   ignore_colour: Sequence[int] = IGNORE_COLOUR
                   ) -> np.ndarray:
    """H×W×3 uint8 RGB image of an H×W label map.

    Args:
        label: class ids in 0..255 (``ignore_index`` = unlabelled).
        palette: N×3 colours of the classes (default: the VOC colour map).
        ignore_index: label shown in ``ignore_colour``.
        ignore_colour: RGB colour of the ignored pixels.
    """
    label = check_label_map(label)
    full = label_palette(palette)
    rgb = full[label.astype(np.uint8)]
    rgb[label == ignore_index] = np.asarray(ignore_colour, np.uint8)
    return rgb
