"""Utilities: atomic I/O and environment set-up."""
from .io import (atomic_path, atomic_write_bytes, save_indexed_png,
                 save_rgb_png)
from .options import merge_options
from .setup_env import register_all_modules

__all__ = [
    'atomic_path', 'atomic_write_bytes', 'save_indexed_png', 'save_rgb_png',
    'register_all_modules', 'merge_options'
]
