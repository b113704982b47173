"""The bottom layer: file formats (CAM ``.npz``, saliency and indexed PNGs,
atomic writes), image and label loading, palettes, CAM-to-label helpers,
errors and option merging. It imports nothing from the other mmwsss
packages (``tests/test_layers.py``), except :func:`register_all_modules`
when called."""
from .io import (atomic_path, atomic_write_bytes, save_indexed_png,
                 save_rgb_png)
from .options import merge_options
from .setup_env import register_all_modules

__all__ = [
    'atomic_path', 'atomic_write_bytes', 'save_indexed_png', 'save_rgb_png',
    'register_all_modules', 'merge_options'
]
