"""Visualisation: coloured label maps, captioned panels, CAM overlays and
the HTML report of a pipeline run."""
from .cam_overlay import heatmap_overlay, max_cam, overlay_cams
from .colorize import IGNORE_COLOUR, colorize_label, label_palette
from .panels import (MIN_TILE_HEIGHT, caption_bar, compose_row, draw_legend,
                     legend_entries, vstack)

__all__ = [
    'overlay_cams', 'heatmap_overlay', 'max_cam', 'colorize_label',
    'label_palette', 'IGNORE_COLOUR', 'MIN_TILE_HEIGHT', 'caption_bar',
    'compose_row', 'draw_legend', 'legend_entries', 'vstack'
]
