"""The colour map of label images."""
from typing import Optional, Sequence, Tuple

import numpy as np


def make_palette(num_classes: int) -> Tuple[Tuple[int, int, int], ...]:
    """The PASCAL VOC colour map for ``num_classes`` indices.

    The bits of each index are spread over the high bits of R, G and B, so
    small indices get well separated colours and index 255 is the familiar
    VOC boundary colour (224, 224, 192).
    """
    colours = []
    for index in range(num_classes):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        colours.append((r, g, b))
    return tuple(colours)


def voc_palette(num_entries: int = 256) -> np.ndarray:
    """:func:`make_palette` as a ``num_entries``×3 uint8 array: 0 is black
    and 255 (ignore) is (224, 224, 192)."""
    return np.array(make_palette(num_entries), dtype=np.uint8)


def palette_over(colours: Optional[Sequence[Sequence[int]]],
                 base: np.ndarray,
                 limit: Optional[int] = None) -> np.ndarray:
    """A uint8 copy of the K×3 ``base`` palette whose first entries are
    ``colours`` (e.g. a data set's metainfo palette, N×3; None or empty
    leaves ``base``), at most ``limit`` of them (default K)."""
    palette = np.array(base, dtype=np.uint8)
    if colours is not None and len(colours):
        colours = np.asarray(colours, dtype=np.uint8).reshape(-1, 3)
        colours = colours[:len(palette) if limit is None else limit]
        palette[:len(colours)] = colours
    return palette


def palette_over_voc(colours: Optional[Sequence[Sequence[int]]]
                     ) -> np.ndarray:
    """256×3 palette: ``colours`` (a data set's metainfo palette, N×3) over
    the VOC colour map, never past entry 254, so 255 (ignore) keeps its VOC
    colour."""
    return palette_over(colours, voc_palette(), limit=255)
