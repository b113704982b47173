"""Atomic file writing: write to a temporary file beside the target, then
rename, so an interrupted stage never leaves a truncated output behind; PNG
writing and image / label reading; and the image id that names every
per-image output."""
import io
import os
import os.path as osp
import uuid
from contextlib import contextmanager
from typing import Iterator, Optional, Tuple, Type, Union

import numpy as np
from PIL import Image

from .palette import palette_over


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path in ``path``'s folder; rename it onto ``path``
    when the block succeeds, delete it when the block raises.

    The temporary file is created (exclusively) with mode ``0o666`` less the
    process umask, as ``open(path, 'w')`` would, so outputs get the usual
    permissions (``tempfile.mkstemp`` would leave them at ``0o600``).
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = osp.splitext(path)[1]
    tmp = osp.join(folder, f'.{osp.basename(path)}.{uuid.uuid4().hex}'
                   f'.tmp{suffix}')
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_bytes(path: str, data: Union[bytes, bytearray]) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, 'wb') as f:
            f.write(data)


def check_label_map(label: np.ndarray,
                    where: str = '',
                    what: str = 'label') -> np.ndarray:
    """``label`` as an array, refused unless it is an H×W map of values in
    0..255 (what an 8-bit image holds); ``where`` (e.g. the file) starts
    the message, ``what`` names the map."""
    label = np.asarray(label)
    prefix = f'{where}: ' if where else ''
    if label.ndim != 2:
        raise ValueError(f'{prefix}{what} map must be 2-D, got {label.shape}')
    if label.size and (label.min() < 0 or label.max() > 255):
        raise ValueError(f'{prefix}{what} values must lie in 0..255, got '
                         f'{label.min()}..{label.max()}')
    return label


def save_indexed_png(path: str, label: np.ndarray, palette: np.ndarray) -> None:
    """Save an H×W label map as a palette ("P" mode) PNG, atomically.

    Args:
        path: target file.
        label: uint8-compatible H×W array (class indices, 255 = ignore).
        palette: N×3 uint8 colours; padded to 256 entries.
    """
    label = check_label_map(label, path)
    img = Image.fromarray(label.astype(np.uint8), mode='P')
    pal = palette_over(palette, np.zeros((256, 3), np.uint8))
    img.putpalette(pal.flatten().tolist())
    _write_png(path, img)


def save_rgb_png(path: str, image: np.ndarray) -> None:
    """Save an H×W×3 uint8 RGB image as a (lossless) PNG, atomically."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'{path}: expected an H×W×3 uint8 RGB image, got '
                         f'{image.dtype} {image.shape}')
    _write_png(path, Image.fromarray(image))


def save_grey_png(path: str, grey: np.ndarray) -> None:
    """Save an H×W uint8 map as an 8-bit greyscale PNG, atomically."""
    _write_png(path, Image.fromarray(grey, mode='L'))


def _write_png(path: str, img: Image.Image) -> None:
    """Encode ``img`` as PNG and write it to ``path`` atomically."""
    buf = io.BytesIO()
    img.save(buf, format='PNG')
    atomic_write_bytes(path, buf.getvalue())


def sample_id(info: dict) -> str:
    """Image id of a data set entry or data sample: its ``img_id``, else the
    image file's name without the suffix. Per-image outputs (CAMs, saliency
    maps, masks) are named by it."""
    img_id = info.get('img_id')
    if img_id is None:
        img_id = osp.splitext(osp.basename(info['img_path']))[0]
    return str(img_id)


def read_image(path: str,
               what: str = 'image',
               mode: Optional[str] = None,
               hint: Optional[str] = None,
               error: Type[Exception] = OSError) -> Tuple[str, np.ndarray]:
    """(PIL mode, pixels) of an image file, converted to ``mode`` when
    given; the one place mmwsss opens image files, so every read error
    names the file (as ``what``).

    Args:
        hint: how to make the file: a missing file is then a
            ``FileNotFoundError`` saying so, and the hint ends the message
            of an unreadable one.
        error: the exception of an unreadable (or, without ``hint``,
            missing) file.
    """
    fix = f' ({hint})' if hint else ''
    if hint is not None and not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}{fix}')
    try:
        with Image.open(path) as img:
            if mode is not None:
                img = img.convert(mode)
            return img.mode, np.array(img)
    except (OSError, ValueError, SyntaxError) as err:
        raise error(f'cannot read {what} {path}: {err}{fix}') from err


def load_rgb(path: str) -> np.ndarray:
    """H×W×3 uint8 RGB image, with the file named in the error."""
    return read_image(path, 'image', 'RGB')[1]


def load_label(path: str, what: str = 'GT mask') -> np.ndarray:
    """H×W class ids of an index (or grey) PNG; a read error names the file
    (as ``what``)."""
    return read_image(path, what)[1]
