"""Panels of equally sized, captioned tiles (image, GT, CAMs, masks) and a
class legend, readable at any image size.

Small images are enlarged (nearest neighbour, by a whole factor, so pixels
stay sharp squares) to at least :data:`MIN_TILE_HEIGHT` pixels before any
text is drawn, and each caption sits in a bar above its tile whose font
scale follows the bar's height, never the image's width: a 32 px and a
500 px image get captions of the same, readable size.
"""
import math
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

#: Tiles are enlarged to at least this height (pixels).
MIN_TILE_HEIGHT = 192
#: Caption bar height as a fraction of the tile height, and its minimum.
CAPTION_FRACTION = 0.12
MIN_CAPTION_HEIGHT = 22
#: Cap height of the caption text as a fraction of the bar height.
TEXT_FILL = 0.55
#: Captions are shrunk to fit their tile, down to this cap height; longer
#: ones are cut (``..``).
MIN_TEXT_HEIGHT = 9
FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
#: Fill of a tile whose input is missing.
PLACEHOLDER = (215, 215, 215)
#: Caption bars are light grey, set apart from white (ignored) pixels.
CAPTION_BACKGROUND = (236, 236, 236)

Tile = Tuple[str, np.ndarray]


def as_rgb(image: np.ndarray) -> np.ndarray:
    """``image`` as H×W×3 uint8 (a grey H×W image is repeated)."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f'expected an H×W×3 or H×W image, got {image.shape}')
    return image.astype(np.uint8, copy=False)


def resize_nearest(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` at ``height``×``width`` (nearest neighbour: labels stay
    labels)."""
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST)


def upscale_factor(height: int, min_height: int = MIN_TILE_HEIGHT) -> int:
    """Smallest whole factor that makes ``height`` at least ``min_height``
    (1 for images already that tall)."""
    return max(1, math.ceil(min_height / max(1, height)))


def caption_height(tile_height: int) -> int:
    """Height of the caption bar above a tile ``tile_height`` pixels tall."""
    return max(MIN_CAPTION_HEIGHT, round(CAPTION_FRACTION * tile_height))


def text_scale(bar_height: int) -> Tuple[float, int]:
    """(font scale, thickness) whose cap height fills :data:`TEXT_FILL` of
    a bar ``bar_height`` pixels tall."""
    (_, base), _ = cv2.getTextSize('H', FONT, 1.0, 1)
    scale = TEXT_FILL * bar_height / base
    return scale, max(1, round(scale * 1.5))


def draw_text(canvas: np.ndarray, text: str, x: int, y_base: int,
              scale: float, thickness: int,
              colour: Sequence[int] = BLACK) -> None:
    """Write ``text`` (ASCII) on ``canvas`` in place, baseline at
    ``y_base``."""
    cv2.putText(canvas, text, (int(x), int(y_base)), FONT, scale,
                tuple(int(c) for c in colour), thickness, cv2.LINE_AA)


def fit_text(text: str, width: int, scale: float,
             thickness: int) -> Tuple[str, float, int]:
    """(text, scale, thickness) fitting ``width`` pixels: the scale shrinks
    down to :data:`MIN_TEXT_HEIGHT` px capitals, then the text is cut."""
    (_, base), _ = cv2.getTextSize('H', FONT, 1.0, 1)
    min_scale = min(scale, MIN_TEXT_HEIGHT / base)
    (w, _), _ = cv2.getTextSize(text, FONT, scale, thickness)
    if w > width:
        scale = max(min_scale, scale * width / w)
        thickness = max(1, min(thickness, round(scale * 1.5)))
    while len(text) > 1 and cv2.getTextSize(text, FONT, scale,
                                            thickness)[0][0] > width:
        text = text[:-3] + '..' if len(text) > 3 else text[:-1]
    return text, scale, thickness


def caption_scale(texts: Sequence[str], width: int,
                  height: int) -> Tuple[float, int]:
    """(font scale, thickness) of captions ``texts`` in bars of
    ``height``×``width``: the bar height's scale, shrunk so the longest
    fits (down to :data:`MIN_TEXT_HEIGHT`); one size for a whole row."""
    pad = max(2, height // 5)
    scale, thickness = text_scale(height)
    for text in texts:
        _, scale, thickness = fit_text(text, width - 2 * pad, scale,
                                       thickness)
    return scale, thickness


def caption_bar(text: str, width: int, height: int,
                background: Sequence[int] = CAPTION_BACKGROUND,
                colour: Sequence[int] = BLACK,
                scale: Optional[Tuple[float, int]] = None) -> np.ndarray:
    """A ``height``×``width`` RGB bar with ``text`` centred vertically; the
    font size follows ``height`` (shrunk only to fit ``width``; text still
    too long is cut).

    Args:
        scale: (font scale, thickness) to use instead, e.g. a row's
            :func:`caption_scale`.
    """
    bar = np.empty((height, width, 3), np.uint8)
    bar[:] = np.asarray(background, np.uint8)
    pad = max(2, height // 5)
    font_scale, thickness = scale or text_scale(height)
    text, font_scale, thickness = fit_text(text, width - 2 * pad,
                                           font_scale, thickness)
    (_, text_h), _ = cv2.getTextSize(text, FONT, font_scale, thickness)
    draw_text(bar, text, pad, (height + text_h) // 2, font_scale, thickness,
              colour)
    return bar


def placeholder(height: int, width: int) -> np.ndarray:
    """A plain tile standing for a missing input."""
    tile = np.empty((height, width, 3), np.uint8)
    tile[:] = np.asarray(PLACEHOLDER, np.uint8)
    return tile


def compose_row(tiles: Sequence[Tile],
                min_height: int = MIN_TILE_HEIGHT,
                gap: int = 4,
                background: Sequence[int] = WHITE,
                tile_height: Optional[int] = None) -> np.ndarray:
    """Captioned tiles side by side, as one RGB image.

    Every tile takes the first image's size (nearest neighbour), all are
    enlarged by the same whole factor to at least ``min_height`` pixels
    (or scaled to exactly ``tile_height``), and each gets its caption in a
    bar above it (not on the image), all captions in one font size.

    Args:
        tiles: (caption, H×W×3 or H×W uint8 image) pairs; a ``None`` image
            is drawn as a :func:`placeholder`.
        min_height: smallest tile height after enlarging.
        gap: pixels between tiles.
        background: colour of the gaps.
        tile_height: exact tile height instead (rows of images of
            different sizes then line up, e.g. in a report).
    """
    if not tiles:
        raise ValueError('compose_row needs at least one tile')
    first = next((img for _, img in tiles if img is not None), None)
    if first is None:
        raise ValueError('compose_row needs at least one image')
    if tile_height:
        height = int(tile_height)
        width = max(1, round(first.shape[1] * height / first.shape[0]))
    else:
        factor = upscale_factor(first.shape[0], min_height)
        height, width = first.shape[0] * factor, first.shape[1] * factor
    bar_h = caption_height(height)
    scale = caption_scale([caption for caption, _ in tiles], width, bar_h)
    columns: List[np.ndarray] = []
    for caption, image in tiles:
        if image is None:
            tile = placeholder(height, width)
        else:
            tile = resize_nearest(as_rgb(image), height, width)
        columns.append(
            np.concatenate(
                [caption_bar(caption, width, bar_h, scale=scale), tile]))
    return hstack(columns, gap, background)


def hstack(images: Sequence[np.ndarray], gap: int = 4,
           background: Sequence[int] = WHITE) -> np.ndarray:
    """Images of one height side by side, ``gap`` pixels apart."""
    spacer = np.empty((images[0].shape[0], gap, 3), np.uint8)
    spacer[:] = np.asarray(background, np.uint8)
    parts: List[np.ndarray] = []
    for image in images:
        if parts and gap:
            parts.append(spacer)
        parts.append(image)
    return np.concatenate(parts, axis=1)


def vstack(images: Sequence[np.ndarray], gap: int = 4,
           background: Sequence[int] = WHITE) -> np.ndarray:
    """Images one below the other, left-aligned, padded to the widest."""
    width = max(image.shape[1] for image in images)
    parts: List[np.ndarray] = []
    for image in images:
        if parts and gap:
            parts.append(np.full((gap, width, 3), background, np.uint8))
        padded = np.empty((image.shape[0], width, 3), np.uint8)
        padded[:] = np.asarray(background, np.uint8)
        padded[:, :image.shape[1]] = image
        parts.append(padded)
    return np.concatenate(parts, axis=0)


def draw_legend(names: Sequence[str],
                colours: Sequence[Sequence[int]],
                max_width: int = 800,
                line_height: int = MIN_CAPTION_HEIGHT + 4,
                background: Sequence[int] = WHITE) -> np.ndarray:
    """Swatches with class names, wrapped into lines of at most
    ``max_width`` pixels (one item per line at least).

    Args:
        names: entries (e.g. the class names, then ``'ignore'``).
        colours: RGB colour of each entry.
        max_width: widest line before wrapping.
        line_height: pixels per line; the font follows it.
    """
    if len(names) != len(colours):
        raise ValueError(f'{len(names)} names for {len(colours)} colours')
    scale, thickness = text_scale(line_height)
    swatch = line_height - 2 * max(2, line_height // 6)
    pad = max(4, line_height // 3)
    items = []
    for name in names:
        (text_w, _), _ = cv2.getTextSize(name, FONT, scale, thickness)
        items.append(swatch + pad // 2 + text_w + pad)
    lines: List[List[int]] = [[]]
    used = 0
    for i, item_w in enumerate(items):
        if lines[-1] and used + item_w > max_width:
            lines.append([])
            used = 0
        lines[-1].append(i)
        used += item_w
    width = max(sum(items[i] for i in line) for line in lines)
    canvas = np.empty((line_height * len(lines), width, 3), np.uint8)
    canvas[:] = np.asarray(background, np.uint8)
    (_, cap), _ = cv2.getTextSize('H', FONT, scale, thickness)
    for row, line in enumerate(lines):
        top, x = row * line_height, 0
        y0 = top + (line_height - swatch) // 2
        for i in line:
            cv2.rectangle(canvas, (x, y0), (x + swatch - 1, y0 + swatch - 1),
                          tuple(int(c) for c in colours[i]), -1)
            cv2.rectangle(canvas, (x, y0), (x + swatch - 1, y0 + swatch - 1),
                          BLACK, 1)
            draw_text(canvas, names[i], x + swatch + pad // 2,
                      top + (line_height + cap) // 2, scale, thickness)
            x += items[i]
    return canvas


def legend_entries(class_names: Sequence[str],
                   palette: np.ndarray,
                   ignore_colour: Optional[Sequence[int]] = None
                   ) -> Tuple[List[str], List[Tuple[int, int, int]]]:
    """(names, colours) of a legend: each class in its palette colour, then
    ``'ignore'`` when ``ignore_colour`` is given."""
    names = list(class_names)
    colours = [tuple(int(c) for c in palette[i]) for i in range(len(names))]
    if ignore_colour is not None:
        names.append('ignore')
        colours.append(tuple(int(c) for c in ignore_colour))
    return names, colours
