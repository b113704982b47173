"""Label colours, captioned panels (readable at any image size), the
legend, CAM overlays and PNG output."""
import numpy as np
import pytest
from PIL import Image

from mmwsss.utils.palette import make_palette
from mmwsss.utils import save_rgb_png
from mmwsss.visualization import (IGNORE_COLOUR, MIN_TILE_HEIGHT,
                                  caption_bar, colorize_label, compose_row,
                                  draw_legend, label_palette, legend_entries,
                                  overlay_cams)
from mmwsss.visualization.panels import (CAPTION_BACKGROUND,
                                         MIN_CAPTION_HEIGHT, caption_height)


def dark_pixels(image: np.ndarray) -> int:
    """Pixels of (nearly) black text on a light bar."""
    return int((image.max(axis=2) < 100).sum())


def test_colorize_uses_the_dataset_palette_and_white_for_ignore():
    label = np.array([[0, 1, 2], [6, 255, 200]], np.uint8)
    rgb = colorize_label(label)
    assert rgb.shape == (2, 3, 3) and rgb.dtype == np.uint8
    for value, colour in ((0, (0, 0, 0)), (1, (128, 0, 0)),
                          (2, (0, 128, 0))):
        assert tuple(rgb[label == value][0]) == colour
    assert tuple(rgb[1, 0]) == tuple(make_palette(7)[6])
    assert tuple(rgb[1, 1]) == IGNORE_COLOUR
    # past the classes: the VOC colour map (never an error)
    assert tuple(rgb[1, 2]) == tuple(label_palette()[200])
    assert not (label_palette()[:255] == IGNORE_COLOUR).all(axis=1).any()


def test_colorize_with_a_given_palette_and_bad_input():
    rgb = colorize_label(np.array([[1, 0]]), palette=[(1, 2, 3), (9, 8, 7)])
    assert rgb.tolist() == [[[9, 8, 7], [1, 2, 3]]]
    with pytest.raises(ValueError, match='2-D'):
        colorize_label(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match='0..255'):
        colorize_label(np.array([[300]]))


@pytest.mark.parametrize('size', [(32, 32), (32, 48), (64, 40), (500, 375)])
def test_row_is_enlarged_and_captioned_above_the_tiles(size):
    h, w = size
    image = np.full((h, w, 3), 90, np.uint8)
    label = np.zeros((h, w), np.uint8)
    row = compose_row([('image', image), ('GT', colorize_label(label)),
                       ('missing', None)], gap=4)
    factor = max(1, -(-MIN_TILE_HEIGHT // h))
    tile_h, tile_w = h * factor, w * factor
    bar = caption_height(tile_h)
    assert bar >= MIN_CAPTION_HEIGHT and tile_h >= MIN_TILE_HEIGHT
    assert row.shape == (bar + tile_h, 3 * tile_w + 2 * 4, 3)
    # the image itself is untouched (the caption is in the bar above it)
    assert (row[bar:, :tile_w] == 90).all()
    caption = row[:bar, :tile_w]
    assert dark_pixels(caption) > 20
    assert (caption == CAPTION_BACKGROUND).all(axis=2).mean() > 0.5


def test_caption_size_follows_the_bar_not_the_image_width():

    def text_height(side: int) -> int:
        row = compose_row([('kite', np.full((side, side, 3), 255,
                                            np.uint8))])
        tile_h = side * max(1, -(-MIN_TILE_HEIGHT // side))
        bar = row[:caption_height(tile_h)]
        assert row.shape[0] == bar.shape[0] + tile_h
        rows = np.nonzero((bar.max(axis=2) < 100).any(axis=1))[0]
        return rows.max() - rows.min() + 1

    # a 32 px image is enlarged to 192 px: captions at least 10 px tall,
    # about as tall as on a 400 px image
    small, large = text_height(32), text_height(400)
    assert small >= 10
    assert small <= large <= 3 * small


def test_long_captions_shrink_to_fit_then_get_cut():
    bar = caption_bar('a very long caption ' * 10, 100, 24)
    assert bar.shape == (24, 100, 3)
    assert dark_pixels(bar[:, -3:]) == 0  # nothing runs off the edge
    assert dark_pixels(bar) > 20


def test_fixed_tile_height_lines_rows_up():
    row = compose_row([('a', np.zeros((30, 60, 3), np.uint8)),
                       ('b', np.zeros((10, 10), np.uint8))],
                      tile_height=200, gap=2)
    assert row.shape == (caption_height(200) + 200, 2 * 400 + 2, 3)


def test_legend_draws_every_class_in_its_colour():
    names, colours = legend_entries(['background', 'kite', 'boat'],
                                    label_palette(), IGNORE_COLOUR)
    assert names[-1] == 'ignore' and colours[1] == (128, 0, 0)
    legend = draw_legend(names, colours, max_width=2000)
    assert legend.shape[0] >= MIN_CAPTION_HEIGHT
    for colour in colours[1:3]:
        assert (legend == colour).all(axis=2).sum() > 20
    assert dark_pixels(legend) > 50
    wrapped = draw_legend(names, colours, max_width=60)
    assert wrapped.shape[0] == len(names) * legend.shape[0]
    with pytest.raises(ValueError, match='names'):
        draw_legend(['a'], [])


def test_overlay_cams_with_gt_on_a_small_image():
    image = np.random.RandomState(0).randint(0, 255, (32, 40, 3), np.uint8)
    cams = np.random.RandomState(1).rand(2, 32, 40).astype(np.float32)
    gt = np.zeros((32, 40), np.uint8)
    gt[4:20, 4:20] = 1
    gt[3] = 255
    panel = overlay_cams(image, cams, [1, 3], ['background', 'kite'], gt=gt)
    tile_h = 32 * 6  # enlarged to 192 px
    bar = caption_height(tile_h)
    assert panel.shape == (bar + tile_h, 4 * 40 * 6 + 3 * 4, 3)
    gt_tile = panel[bar:, 40 * 6 + 4:2 * 40 * 6 + 4]
    assert (gt_tile == (128, 0, 0)).all(axis=2).any()
    assert (gt_tile == IGNORE_COLOUR).all(axis=2).any()
    # key 3 is past the names: shown by number, no error
    assert dark_pixels(panel[:bar, -40 * 6:]) > 10
    without = overlay_cams(image, cams, [1, 3], ['background', 'kite'])
    assert without.shape[1] == 3 * 40 * 6 + 2 * 4
    with pytest.raises(ValueError, match='differ in size'):
        overlay_cams(image, cams[:, :16], [1, 3], ['background'])


def test_png_output_is_lossless(tmp_path):
    image = np.random.RandomState(0).randint(0, 255, (17, 23, 3), np.uint8)
    path = str(tmp_path / 'x.png')
    save_rgb_png(path, image)
    with Image.open(path) as img:
        assert img.format == 'PNG'
        assert (np.asarray(img) == image).all()
    assert [p.name for p in tmp_path.iterdir()] == ['x.png']
    with pytest.raises(ValueError, match='uint8 RGB'):
        save_rgb_png(path, image[..., 0])
