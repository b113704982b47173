"""Writers of tiny data set trees (VOC, COCO, custom lists) for the data set
tests: 32-64 px images, palette masks, VOC XML."""
import json
import os
import os.path as osp
from typing import Dict, Iterable, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from mmwsss.utils.io import save_indexed_png
from mmwsss.utils.palette import make_palette

PALETTE = np.array(make_palette(256), np.uint8)
Box = Tuple[float, float, float, float]


def write_image(path: str, h: int = 40, w: int = 48, seed: int = 0) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (h, w, 3), np.uint8)).save(path)


def blob_mask(values: Sequence[int], h: int = 40, w: int = 48) -> np.ndarray:
    """A mask with one vertical stripe per value and a 255 band between."""
    mask = np.zeros((h, w), np.uint8)
    for i, v in enumerate(values):
        x0 = 4 + i * 10
        mask[8:30, x0:x0 + 8] = v
        mask[7, x0:x0 + 8] = 255
    return mask


def write_mask(path: str, mask: np.ndarray, mode: str = 'P') -> None:
    if mode == 'P':
        save_indexed_png(path, mask, PALETTE)
    else:
        os.makedirs(osp.dirname(path), exist_ok=True)
        Image.fromarray(mask).convert(mode).save(path)


def write_xml(path: str,
              objects: Iterable[Tuple[str, Box, int]],
              size: Optional[Tuple[int, int]] = (40, 48)) -> None:
    """VOC XML; ``objects`` are (name, (xmin, ymin, xmax, ymax),
    difficult); ``size`` is (h, w) or None for no <size>."""
    parts = ['<annotation><filename>x.jpg</filename>']
    if size is not None:
        parts.append(f'<size><width>{size[1]}</width><height>{size[0]}'
                     '</height><depth>3</depth></size>')
    for name, (x1, y1, x2, y2), difficult in objects:
        parts.append(
            f'<object><name>{name}</name><difficult>{difficult}</difficult>'
            f'<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax>'
            f'<ymax>{y2}</ymax></bndbox></object>')
    parts.append('</annotation>')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(parts))


def write_lines(path: str, lines: Iterable[str]) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(f'{line}\n' for line in lines))
    return path


def make_voc(root: str,
             masks: Dict[str, Optional[Sequence[int]]],
             xmls: Optional[Dict[str, list]] = None,
             list_name: str = 'train_aug.txt') -> str:
    """VOC tree: ``masks`` maps id -> mask values (None: no mask file);
    ``xmls`` maps id -> XML objects. Returns data_root."""
    for i, (img_id, values) in enumerate(masks.items()):
        write_image(osp.join(root, 'JPEGImages', f'{img_id}.jpg'), seed=i)
        if values is not None:
            write_mask(
                osp.join(root, 'SegmentationClassAug', f'{img_id}.png'),
                blob_mask(values))
    for img_id, objects in (xmls or {}).items():
        write_xml(osp.join(root, 'Annotations', f'{img_id}.xml'), objects)
    write_lines(osp.join(root, 'ImageSets', 'Segmentation', list_name),
                masks)
    return root


# Standard COCO category ids: 1..90 without these 10.
COCO_ID_GAPS = (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)
COCO_CAT_IDS = tuple(i for i in range(1, 91) if i not in COCO_ID_GAPS)


def coco_instances(images: Dict[int, Sequence[Tuple[int, int]]],
                   names: Sequence[str]) -> dict:
    """A minimal instances JSON; ``images`` maps image id -> list of
    (category id, iscrowd). Categories are listed in reverse id order."""
    anns = []
    for image_id, objs in images.items():
        for cat, crowd in objs:
            anns.append(
                dict(id=len(anns) + 1, image_id=image_id, category_id=cat,
                     iscrowd=crowd, bbox=[0, 0, 4, 4], area=16))
    cats = [dict(id=cid, name=name)
            for cid, name in zip(COCO_CAT_IDS, names)][::-1]
    return dict(
        images=[dict(id=i, file_name=f'COCO_train2014_{i:012d}.jpg')
                for i in images],
        annotations=anns,
        categories=cats)


def write_json(path: str, data: dict) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f)
    return path
