"""A deterministic synthetic WSSS data set in PASCAL VOC layout.

The images are built so that weak supervision is as hard as on real data:

* every object has a large body whose shape, colour and texture hardly
  depend on its class, and a small, highly discriminative part (a
  class-specific colour and pattern) somewhere on it, so a naive CAM fires on
  the part only and misses most of the body;
* images hold 1-3 objects of different classes; objects may overlap, the one
  drawn later occludes the earlier ones and the masks agree;
* some classes usually sit on a context texture (``boat`` on a water band,
  ``kite`` in a sky band) that is background in the mask, which invites
  false positives on the context;
* masks carry a 1-2 px ignore (255) band along every object border, as VOC
  masks do.

Optionally (``num_ood``) it also writes out-of-distribution images for
W-OoD: the same backgrounds with a water or sky band and no object, i.e. the
context cue alone, which a classifier that learnt "water means boat" flags
as a false positive. They go to ``OoD/JPEGImages`` with the list
``OoD/ood_list.txt`` (one file name per line, the reference's layout).

Every image is drawn from its own random stream (seed, image index), so a
data set is the same byte for byte for the same parameters. OoD images use
the streams (seed, OoD index, 1), disjoint from the in-distribution ones
(seed, index) (numpy pads a seed sequence with zeros, so (seed, index) is
(seed, index, 0)): adding OoD images changes no in-distribution byte.
"""
import io
import json
import os
import os.path as osp
import shutil
import tempfile
import xml.etree.ElementTree as ET
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from mmwsss.utils.io import atomic_write_bytes, save_indexed_png
from mmwsss.utils.palette import make_palette

SYNTHETIC_CLASSES = ('background', 'kite', 'boat', 'cup', 'leaf', 'star',
                     'fish')
GENERATOR = 'mmwsss.synthetic_voc'
GENERATOR_VERSION = 1
IGNORE_INDEX = 255


class _ClassStyle(NamedTuple):
    """Look of one foreground class."""
    part_colour: Tuple[int, int, int]
    part_pattern: str
    context: Optional[str]
    body_shift: float  # weak class cue: a small brightness offset


# Aligned with SYNTHETIC_CLASSES[1:].
_STYLES = (
    _ClassStyle((230, 40, 40), 'solid', 'sky', -6.),
    _ClassStyle((40, 200, 60), 'hstripes', 'water', -3.),
    _ClassStyle((50, 80, 235), 'checker', None, 0.),
    _ClassStyle((240, 220, 30), 'vstripes', None, 3.),
    _ClassStyle((220, 50, 220), 'ring', None, 6.),
    _ClassStyle((30, 220, 220), 'dots', None, 9.),
)
_CONTEXTS = ('water', 'sky')
_NUM_OBJECTS_P = (0.45, 0.35, 0.20)  # P(1, 2, 3 objects)
_CONTEXT_P = 0.85  # a context class sits on its context band
_DISTRACTOR_P = 0.08  # a context band without its class
_MIN_VISIBLE = 0.4  # each object keeps this fraction of its body visible
_MIN_CORE_PX = 12  # ... and this many labelled pixels outside the band
_JPEG_QUALITY = 92
_MAX_ATTEMPTS = 100
#: Folder (under the data root) and list file of the OoD images.
OOD_DIR = 'OoD'
OOD_LIST = 'ood_list.txt'
# Third seed word of the OoD streams; in-distribution streams have 0 there.
_OOD_STREAM = 1


class _Object(NamedTuple):
    cls: int
    body: np.ndarray  # bool H x W
    part: np.ndarray  # bool H x W, inside body
    u: np.ndarray  # body-aligned coordinates (for texture)
    v: np.ndarray
    r: np.ndarray  # normalised radius (0 centre, 1 border)
    part_dx: np.ndarray
    part_dy: np.ndarray
    part_radius: float


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int,
                  channels: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1]: a random grid, bilinearly
    upsampled (separably: rows first, then columns)."""
    grid = rng.uniform(-1, 1, size=(cells + 1, cells + 1, channels))
    xs = np.linspace(0, cells, w, endpoint=False)
    x0 = xs.astype(int)
    fx = (xs - x0)[None, :, None]
    rows = grid[:, x0] * (1 - fx) + grid[:, x0 + 1] * fx
    ys = np.linspace(0, cells, h, endpoint=False)
    y0 = ys.astype(int)
    fy = (ys - y0)[:, None, None]
    return rows[y0] * (1 - fy) + rows[y0 + 1] * fy


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Muted colour field with blotches and grain."""
    base = rng.uniform((60, 70, 50), (170, 170, 150))
    img = base + 28 * _smooth_noise(rng, h, w, int(rng.integers(2, 6)), 3)
    img += 7 * rng.standard_normal((h, w, 3))
    return img


def _context_rows(rng: np.random.Generator, kind: str, h: int) -> slice:
    """Rows of a context band: water at the bottom, sky at the top."""
    if kind == 'water':
        return slice(int(rng.uniform(0.5, 0.7) * h), h)
    return slice(0, int(rng.uniform(0.35, 0.5) * h))


def _draw_context(rng: np.random.Generator, img: np.ndarray, kind: str,
                  rows: slice) -> None:
    """Paint a water or sky band over ``rows``."""
    w = img.shape[1]
    yy, xx = np.mgrid[rows, 0:w].astype(np.float64)
    if kind == 'water':
        phase = rng.uniform(0, 2 * np.pi)
        waves = np.sin(0.9 * xx + 1.7 * yy + phase) + 0.5 * np.sin(
            0.35 * xx - 2.3 * yy)
        band = np.stack([30 + 8 * waves, 85 + 12 * waves, 165 + 15 * waves],
                        -1)
    else:  # sky: a vertical gradient with soft clouds
        t = (yy / max(rows.stop, 1))[..., None]
        band = (1 - t) * np.array((105., 155., 225.)) + t * np.array(
            (175., 205., 240.))
        cloud = np.clip(
            _smooth_noise(rng, *yy.shape, 3, 1) * 2 - 0.6, 0, 1)
        band = band * (1 - 0.6 * cloud) + 0.6 * cloud * 245
    band += 5 * rng.standard_normal(band.shape)
    img[rows] = band


def _make_object(rng: np.random.Generator, cls: int, h: int, w: int,
                 centre_y: Optional[float]) -> _Object:
    """A blob body (rotated, wobbly ellipse) with a small part on it."""
    side = min(h, w)
    a = rng.uniform(0.22, 0.36) * side
    b = a * rng.uniform(0.55, 0.9)
    cx = rng.uniform(0.15 * w, 0.85 * w)
    cy = (rng.uniform(0.15 * h, 0.85 * h)
          if centre_y is None else float(np.clip(centre_y, 0.15 * h,
                                                 0.85 * h)))
    theta = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = xx - cx, yy - cy
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = -dx * np.sin(theta) + dy * np.cos(theta)
    r = np.sqrt((u / a)**2 + (v / b)**2)
    phi = np.arctan2(v / b, u / a)
    wobble = 1 + sum(
        rng.uniform(0, 0.09) * np.sin(k * phi + rng.uniform(0, 2 * np.pi))
        for k in (2, 3, 5))
    body = r <= wobble

    part_radius = max(2.5, rng.uniform(0.28, 0.38) * b)
    rho, ang = rng.uniform(0, 0.5), rng.uniform(0, 2 * np.pi)
    pu, pv = rho * a * np.cos(ang), rho * b * np.sin(ang)
    px = cx + pu * np.cos(theta) - pv * np.sin(theta)
    py = cy + pu * np.sin(theta) + pv * np.cos(theta)
    part_dx, part_dy = xx - px, yy - py
    part = body & (np.hypot(part_dx, part_dy) <= part_radius)
    return _Object(cls, body, part, u, v, r / wobble, part_dx, part_dy,
                   part_radius)


def _paint_object(rng: np.random.Generator, img: np.ndarray,
                  obj: _Object) -> None:
    """Body texture (nearly class-agnostic), then the class part; both
    computed on the body's bounding box only."""
    style = _STYLES[obj.cls - 1]
    ys, xs = np.nonzero(obj.body)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    body, u, v, r = obj.body[box], obj.u[box], obj.v[box], obj.r[box]
    h, w = body.shape
    base = np.array((135., 115., 95.)) + rng.normal(0, 16, 3)
    base += style.body_shift
    freq, ang = rng.uniform(0.6, 1.2), rng.uniform(0, np.pi)
    stripes = np.sin(freq * (u * np.cos(ang) + v * np.sin(ang)))
    tex = (base + 10 * stripes[..., None] +
           14 * _smooth_noise(rng, h, w, 3, 3) +
           6 * rng.standard_normal((h, w, 3)))
    tex *= (1 - 0.25 * np.clip(r, 0, 1)**2)[..., None]  # shading
    crop = img[box]
    crop[body] = tex[body]

    part = obj.part[box]
    dx, dy = obj.part_dx[box], obj.part_dy[box]
    colour = np.array(style.part_colour, np.float64)
    dark, light = colour * 0.35, np.array((245., 245., 245.))
    if style.part_pattern == 'hstripes':
        on = (np.floor(dy / 2) % 2) == 0
    elif style.part_pattern == 'vstripes':
        on = (np.floor(dx / 2) % 2) == 0
    elif style.part_pattern == 'checker':
        on = ((np.floor(dx / 2) + np.floor(dy / 2)) % 2) == 0
    elif style.part_pattern == 'ring':
        on = np.hypot(dx, dy) > 0.45 * obj.part_radius
    elif style.part_pattern == 'dots':
        on = ((np.round(dx) % 3 != 0) | (np.round(dy) % 3 != 0))
    else:
        on = np.ones(dx.shape, bool)
    alt = light if style.part_pattern in ('checker', 'ring') else dark
    part_img = np.where(on[..., None], colour, alt)
    part_img += 6 * rng.standard_normal(part_img.shape)
    crop[part] = part_img[part]


def ignore_band(label: np.ndarray) -> np.ndarray:
    """Pixels whose 3x3 neighbourhood holds more than one label: a 2 px
    band along every border (1 px on each side)."""
    padded = np.pad(label, 1, mode='edge')
    h, w = label.shape
    lo = label.copy()
    hi = label.copy()
    for oy in range(3):
        for ox in range(3):
            window = padded[oy:oy + h, ox:ox + w]
            np.minimum(lo, window, out=lo)
            np.maximum(hi, window, out=hi)
    return lo != hi


def _layout(rng: np.random.Generator, classes: Sequence[int], h: int, w: int,
            rows: Optional[slice], anchored: Optional[int]
            ) -> Optional[Tuple[List[_Object], np.ndarray, list]]:
    """Objects, the final label map and the visible boxes (1-based,
    inclusive), or None when an object ends up (nearly) hidden."""
    label = np.zeros((h, w), np.uint8)
    objects = []
    for cls in classes:
        centre_y = None
        if cls == anchored and rows is not None:
            centre_y = (rows.start + rng.uniform(-0.08, 0.12) * h
                        if rows.start > 0 else rows.stop - rng.uniform(
                            0.1, 0.25) * h)
        obj = _make_object(rng, cls, h, w, centre_y)
        if obj.body.sum() < 30:
            return None
        objects.append(obj)
        label[obj.body] = cls
    band = ignore_band(label)
    boxes = []
    for obj in objects:
        visible = label == obj.cls
        if (visible.sum() < _MIN_VISIBLE * obj.body.sum()
                or (visible & ~band).sum() < _MIN_CORE_PX):
            return None
        ys, xs = np.nonzero(visible)
        boxes.append((obj.cls, (int(xs.min()) + 1, int(ys.min()) + 1,
                                int(xs.max()) + 1, int(ys.max()) + 1)))
    label[band] = IGNORE_INDEX
    return objects, label, boxes


def render_sample(rng: np.random.Generator, image_size: Tuple[int, int]
                  ) -> Tuple[np.ndarray, np.ndarray, List[Tuple[int, Tuple[
                      int, int, int, int]]]]:
    """One synthetic image.

    Returns:
        image (H x W x 3 uint8 RGB), label map (H x W uint8, 255 = ignore)
        and the objects as ``(class index, (xmin, ymin, xmax, ymax))`` with
        1-based inclusive VOC box coordinates of the visible extent.
    """
    lo, hi = image_size
    h, w = (int(s) for s in rng.integers(lo, hi + 1, size=2))
    num_fg = len(_STYLES)
    n = int(rng.choice(3, p=_NUM_OBJECTS_P)) + 1
    classes = [int(c) + 1 for c in rng.choice(num_fg, size=n, replace=False)]

    context, anchored = None, None
    with_context = [c for c in classes if _STYLES[c - 1].context]
    if with_context and rng.random() < _CONTEXT_P:
        anchored = with_context[0]
        context = _STYLES[anchored - 1].context
    elif rng.random() < _DISTRACTOR_P:
        context = _CONTEXTS[int(rng.integers(len(_CONTEXTS)))]
    rows = _context_rows(rng, context, h) if context else None

    result = None
    for attempt in range(_MAX_ATTEMPTS):
        result = _layout(rng, classes, h, w, rows, anchored)
        if result is not None:
            break
        if attempt % 12 == 11 and len(classes) > 1:
            classes = classes[:-1]  # too crowded: drop the last object
    if result is None:
        raise RuntimeError(f'cannot place an object on a {h}x{w} image; '
                           'use a larger image_size')
    objects, label, boxes = result

    img = _background(rng, h, w)
    if context:
        _draw_context(rng, img, context, rows)
    for obj in objects:
        _paint_object(rng, img, obj)
    img += 3 * rng.standard_normal(img.shape)
    image = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return image, label, boxes


def render_ood_sample(rng: np.random.Generator, image_size: Tuple[int, int]
                      ) -> Tuple[np.ndarray, str]:
    """One out-of-distribution image: a background and a water or sky band
    (drawn as in :func:`render_sample`) without any object.

    Returns:
        image (H x W x 3 uint8 RGB) and the context kind
        (``'water'`` or ``'sky'``).
    """
    lo, hi = image_size
    h, w = (int(s) for s in rng.integers(lo, hi + 1, size=2))
    context = _CONTEXTS[int(rng.integers(len(_CONTEXTS)))]
    rows = _context_rows(rng, context, h)
    img = _background(rng, h, w)
    _draw_context(rng, img, context, rows)
    img += 3 * rng.standard_normal(img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), context


def voc_xml(img_id: str, size: Tuple[int, int],
            boxes: Sequence[Tuple[int, Tuple[int, int, int, int]]],
            classes: Sequence[str]) -> bytes:
    """A VOC-style annotation XML: one ``<object>`` per instance."""
    h, w = size
    root = ET.Element('annotation')
    ET.SubElement(root, 'folder').text = 'synthetic'
    ET.SubElement(root, 'filename').text = f'{img_id}.jpg'
    size_node = ET.SubElement(root, 'size')
    for tag, value in (('width', w), ('height', h), ('depth', 3)):
        ET.SubElement(size_node, tag).text = str(value)
    ET.SubElement(root, 'segmented').text = '1'
    for cls, (x1, y1, x2, y2) in boxes:
        obj = ET.SubElement(root, 'object')
        ET.SubElement(obj, 'name').text = classes[cls]
        ET.SubElement(obj, 'pose').text = 'Unspecified'
        ET.SubElement(obj, 'truncated').text = '0'
        ET.SubElement(obj, 'difficult').text = '0'
        box = ET.SubElement(obj, 'bndbox')
        for tag, value in (('xmin', x1), ('ymin', y1), ('xmax', x2),
                           ('ymax', y2)):
            ET.SubElement(box, tag).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding='utf-8', xml_declaration=False) + b'\n'


def _encode(image: np.ndarray, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _write_text(path: str, lines: Sequence[str]) -> None:
    atomic_write_bytes(path, ''.join(f'{x}\n' for x in lines).encode())


def _generate_ood(root: str, num_ood: int, image_size: Tuple[int, int],
                  seed: int) -> dict:
    """Write ``num_ood`` OoD images and their list under ``root/OoD``;
    return their summary."""
    names = [f'ood_{i:05d}.jpg' for i in range(num_ood)]
    contexts = {kind: 0 for kind in _CONTEXTS}
    for index, name in enumerate(names):
        rng = np.random.default_rng([seed, index, _OOD_STREAM])
        image, context = render_ood_sample(rng, image_size)
        atomic_write_bytes(
            osp.join(root, OOD_DIR, 'JPEGImages', name),
            _encode(image, 'JPEG', quality=_JPEG_QUALITY, subsampling=0))
        contexts[context] += 1
    _write_text(osp.join(root, OOD_DIR, OOD_LIST), names)
    return dict(num_ood=num_ood, ood_contexts=contexts)


def _generate_into(root: str, num_train: int, num_val: int,
                   image_size: Tuple[int, int], seed: int,
                   num_ood: int = 0) -> dict:
    """Write the whole data set under ``root``; return its summary (OoD
    keys only when ``num_ood`` > 0, so older summaries stay unchanged)."""
    classes = SYNTHETIC_CLASSES
    mask_palette = np.array(make_palette(256), np.uint8)
    ids = [f'syn_{i:05d}' for i in range(num_train + num_val)]
    images_per_class = [0] * len(classes)
    num_objects = multi_label = with_overlap = 0
    for index, img_id in enumerate(ids):
        rng = np.random.default_rng([seed, index])
        image, label, boxes = render_sample(rng, image_size)
        atomic_write_bytes(
            osp.join(root, 'JPEGImages', f'{img_id}.jpg'),
            _encode(image, 'JPEG', quality=_JPEG_QUALITY, subsampling=0))
        for folder in ('SegmentationClassAug', 'SegmentationClass'):
            save_indexed_png(
                osp.join(root, folder, f'{img_id}.png'), label, mask_palette)
        atomic_write_bytes(
            osp.join(root, 'Annotations', f'{img_id}.xml'),
            voc_xml(img_id, label.shape, boxes, classes))
        num_objects += len(boxes)
        multi_label += len(boxes) > 1
        for cls, _ in boxes:
            images_per_class[cls] += 1
        if len(boxes) > 1 and _boxes_overlap([b for _, b in boxes]):
            with_overlap += 1

    train, val = ids[:num_train], ids[num_train:]
    lists = osp.join(root, 'ImageSets', 'Segmentation')
    _write_text(osp.join(lists, 'train_aug.txt'), train)
    # VOC's train.txt is a subset of train_aug.txt; keep the first quarter.
    _write_text(osp.join(lists, 'train.txt'),
                train[:max(1, len(train) // 4)] if train else [])
    _write_text(osp.join(lists, 'val.txt'), val)
    _write_text(osp.join(root, 'classes.txt'), classes)
    summary = dict(
        num_train=num_train,
        num_val=num_val,
        num_images=len(ids),
        num_objects=num_objects,
        multi_label_images=multi_label,
        overlapping_images=with_overlap,
        images_per_class=dict(zip(classes[1:], images_per_class[1:])),
        classes=list(classes),
        image_size=list(image_size),
        seed=seed)
    if num_ood:
        summary.update(_generate_ood(root, num_ood, image_size, seed))
    return summary


def _boxes_overlap(boxes: Sequence[Tuple[int, int, int, int]]) -> bool:
    for i, (ax1, ay1, ax2, ay2) in enumerate(boxes):
        for bx1, by1, bx2, by2 in boxes[i + 1:]:
            if ax1 <= bx2 and bx1 <= ax2 and ay1 <= by2 and by1 <= ay2:
                return True
    return False


def _is_ours(path: str) -> bool:
    """Whether ``path`` is a data set this generator wrote (safe to
    replace) or an empty folder."""
    if not os.listdir(path):
        return True
    try:
        with open(osp.join(path, 'meta.json'), encoding='utf-8') as f:
            return json.load(f).get('params', {}).get('generator') == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def _read_meta(path: str) -> Optional[dict]:
    try:
        with open(osp.join(path, 'meta.json'), encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def generate_synthetic_voc(out_dir: str,
                           num_train: int = 200,
                           num_val: int = 50,
                           image_size: Tuple[int, int] = (64, 96),
                           seed: int = 0,
                           force: bool = False,
                           num_ood: int = 0) -> dict:
    """Generate the synthetic VOC-layout data set in ``out_dir``.

    Writes ``JPEGImages/*.jpg``, ``SegmentationClassAug/*.png`` and
    ``SegmentationClass/*.png`` (identical palette PNGs, 255 = ignore band),
    ``Annotations/*.xml``, ``ImageSets/Segmentation/{train,train_aug,
    val}.txt``, ``classes.txt`` and ``meta.json`` (the parameters); with
    ``num_ood`` also ``OoD/JPEGImages/ood_*.jpg`` and ``OoD/ood_list.txt``.

    Idempotent: when ``out_dir`` already holds a data set made with the same
    parameters it returns at once; otherwise everything is generated in a
    temporary sibling folder that then replaces ``out_dir``. A non-empty
    ``out_dir`` that this generator did not write is never replaced.

    Args:
        out_dir: target folder.
        num_train: images in ``train_aug.txt`` (``train.txt`` lists the
            first quarter of them).
        num_val: images in ``val.txt``.
        image_size: (min, max) side length; height and width are drawn
            independently, so aspect ratios vary.
        seed: random seed; same parameters give the same bytes.
        force: regenerate even when the parameters match.
        num_ood: out-of-distribution images (context band, no object) for
            W-OoD. 0 writes none and leaves ``meta.json`` without the key,
            so data sets made before the option are still up to date.

    Returns:
        Summary: counts of images, objects and images per class, the
        parameters, ``out_dir`` and ``generated`` (False when skipped).
    """
    lo, hi = (int(s) for s in image_size)
    if not 24 <= lo <= hi:
        raise ValueError(f'image_size must be (min, max) with 24 <= min <= '
                         f'max, got {image_size}')
    if num_train < 0 or num_val < 0 or num_train + num_val == 0:
        raise ValueError('num_train and num_val must be >= 0 and not both 0')
    if num_ood < 0:
        raise ValueError(f'num_ood must be >= 0, got {num_ood}')
    params = dict(
        generator=GENERATOR,
        version=GENERATOR_VERSION,
        num_train=int(num_train),
        num_val=int(num_val),
        image_size=[lo, hi],
        seed=int(seed))
    if num_ood:
        params['num_ood'] = int(num_ood)
    out_dir = osp.abspath(out_dir)
    meta = _read_meta(out_dir)
    if not force and meta is not None and meta.get('params') == params:
        return dict(meta['summary'], out_dir=out_dir, generated=False)
    if osp.exists(out_dir) and not (osp.isdir(out_dir) and _is_ours(out_dir)):
        raise FileExistsError(
            f'{out_dir} exists and is not a synthetic data set made by '
            f'{GENERATOR}; choose another out_dir or remove it')

    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.', dir=parent)
    try:
        summary = _generate_into(tmp, params['num_train'], params['num_val'],
                                 (lo, hi), params['seed'], int(num_ood))
        atomic_write_bytes(
            osp.join(tmp, 'meta.json'),
            (json.dumps(dict(params=params, summary=summary), indent=2) +
             '\n').encode())
        os.chmod(tmp, 0o755)
        current = _read_meta(out_dir)
        if not force and current is not None and current.get(
                'params') == params:
            # Another process finished the same data set first.
            shutil.rmtree(tmp)
            return dict(current['summary'], out_dir=out_dir, generated=False)
        if osp.exists(out_dir):
            old = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.old.',
                                   dir=parent)
            os.rmdir(old)
            os.rename(out_dir, old)
            os.rename(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dict(summary, out_dir=out_dir, generated=True)
