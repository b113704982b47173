"""Build the 81-class semantic masks and image lists of MS COCO 2014 from
its instance annotations.

    python tools/dataset_converters/coco.py COCO_ROOT [--nproc 8] \\
        [--splits train2014 val2014] [--crowd ignore|class]

``COCO_ROOT`` (``data/coco14``) needs ``annotations/instances_{split}.json``.
Writes, as ``configs/_base_/datasets/coco14_cls.py`` and the COCO
segmentation configs read them:

- ``coco_seg_anno/{image id:012d}.png``: palette PNGs (VOC colours) of
  class ids 0 = background, 1..80 = the 80 categories in sorted category-id
  order (COCO's ids run 1..90 with gaps), 255 = ignore; one folder for
  both splits (image ids are unique across them);
- ``{split}.txt``: every image of the split (also those without
  annotations), as 12-digit ids, sorted.

Overlapping instances: larger ones are painted first, so where instances
overlap the smaller one is kept (a small object overlapping a larger one is
usually in front of it: a cup on a table). Crowd annotations
(``iscrowd=1``) are painted before all other instances: as 255 (ignore,
the default: a crowd region says "many of this class" without saying where
they are) or with their class (``--crowd class``); a regular instance
inside a crowd region keeps its class either way.

Masks are written atomically and existing ones are skipped, so an
interrupted run resumes; the lists are rewritten every time.
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmwsss.apis.image_jobs import ImageJob, run_jobs
from mmwsss.datasets.coco import (COCO14_CLASSES, _norm,
                                  coco_category_mapping)
from mmwsss.utils.errors import DataError
from mmwsss.utils.io import atomic_write_bytes, save_indexed_png
from mmwsss.utils.palette import voc_palette

IGNORE_INDEX = 255
CROWD_MODES = ('ignore', 'class')
# (image id, height, width, [(class index, is crowd, area, segmentation)])
Item = Tuple[int, int, int, List[Tuple[int, bool, float, Any]]]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='COCO 2014 instances JSON -> 81-class semantic mask '
        'PNGs (coco_seg_anno/) and image lists')
    parser.add_argument('coco_root', help='data/coco14 (with annotations/)')
    parser.add_argument(
        '--splits', nargs='+', default=['train2014', 'val2014'],
        help='splits to convert (default: train2014 val2014)')
    parser.add_argument(
        '--out-dir', help='mask folder (default: COCO_ROOT/coco_seg_anno)')
    parser.add_argument(
        '--crowd', choices=CROWD_MODES, default='ignore',
        help='crowd regions become 255 (ignore, default) or their class')
    parser.add_argument(
        '--nproc', type=int, default=1, help='worker processes (default 1)')
    return parser.parse_args(argv)


def category_indices(categories: Sequence[dict],
                     path: str) -> Dict[int, int]:
    """COCO category id -> mask class index (1..80, sorted-id order),
    after checking the categories are the 80 of ``COCO14_CLASSES``."""
    mapping = coco_category_mapping(list(categories))
    names = {c['id']: c.get('name', '') for c in categories}
    expected = COCO14_CLASSES[1:]
    got = [names[cid] for cid in sorted(mapping)]
    if [_norm(n) for n in got] != [_norm(n) for n in expected]:
        raise DataError(
            f'{path}: its {len(got)} categories are not the 80 COCO '
            f'categories of mmwsss.datasets.coco.COCO14_CLASSES (first '
            f'ones: {got[:3]}); use the official instances JSON')
    return {cid: index + 1 for cid, index in mapping.items()}


def load_instances(path: str) -> Tuple[List[dict], Dict[int, int],
                                       Dict[int, List[dict]]]:
    """(images, category id -> class index, image id -> annotations) of a
    COCO instances JSON."""
    if not osp.isfile(path):
        raise DataError(
            f'instances JSON not found: {path}; extract '
            'annotations_trainval2014.zip into COCO_ROOT')
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        images, categories = data['images'], data['categories']
        annotations = data['annotations']
    except (ValueError, KeyError, TypeError) as err:
        raise DataError(f'{path}: not a COCO instances JSON '
                              f'({type(err).__name__}: {err})') from err
    cat_index = category_indices(categories, path)
    per_image: Dict[int, List[dict]] = defaultdict(list)
    for ann in annotations:
        per_image[int(ann['image_id'])].append(ann)
    return images, cat_index, per_image


def segmentation_mask(segm: Any, height: int, width: int) -> np.ndarray:
    """H×W bool mask of a COCO segmentation: polygons, uncompressed RLE
    (``counts`` a list) or compressed RLE (``counts`` a string)."""
    from pycocotools import mask as mask_utils
    if isinstance(segm, list):  # polygons
        rles = mask_utils.frPyObjects(segm, height, width)
        rle = mask_utils.merge(rles)
    elif isinstance(segm, dict) and isinstance(segm.get('counts'), list):
        rle = mask_utils.frPyObjects(segm, height, width)
    elif isinstance(segm, dict) and 'counts' in segm:
        rle = dict(segm)
        if isinstance(rle['counts'], str):
            rle['counts'] = rle['counts'].encode('ascii')
    else:
        raise ValueError(f'unknown segmentation format {type(segm).__name__}')
    mask = mask_utils.decode(rle)
    if mask.shape[:2] != (height, width):
        raise ValueError(f'segmentation of size {mask.shape[:2]}, image '
                         f'{(height, width)}')
    return mask.astype(bool)


def paint_semantic(height: int, width: int,
                   instances: Sequence[Tuple[int, bool, float, Any]],
                   crowd: str = 'ignore') -> np.ndarray:
    """H×W uint8 class map of an image's instances (class index, is crowd,
    area, segmentation): background 0, crowd regions first (255 or their
    class), then the other instances from the largest to the smallest, so
    the smaller one wins where they overlap."""
    label = np.zeros((height, width), np.uint8)
    order = sorted(range(len(instances)),
                   key=lambda k: (not instances[k][1], -instances[k][2], k))
    for k in order:
        index, is_crowd, _, segm = instances[k]
        value = IGNORE_INDEX if is_crowd and crowd == 'ignore' else index
        label[segmentation_mask(segm, height, width)] = value
    return label


def image_items(images: Sequence[dict], cat_index: Dict[int, int],
                per_image: Dict[int, List[dict]], path: str) -> List[Item]:
    """One work item per image, sorted by image id."""
    items = []
    for img in sorted(images, key=lambda i: int(i['id'])):
        image_id = int(img['id'])
        instances = []
        for ann in per_image.get(image_id, ()):
            cid = ann.get('category_id')
            if cid not in cat_index:
                raise DataError(f'{path}: annotation {ann.get("id")} '
                                      f'has unknown category_id {cid}')
            instances.append((cat_index[cid], bool(ann.get('iscrowd', 0)),
                              float(ann.get('area', 0.0)),
                              ann['segmentation']))
        items.append((image_id, int(img['height']), int(img['width']),
                      instances))
    return items


class MaskJob(ImageJob):
    """Writes the semantic mask of one image."""

    passthrough = (DataError, )

    def __init__(self, out_dir: str, crowd: str) -> None:
        self.out_dir = out_dir
        self.crowd = crowd
        self.palette = voc_palette()

    def out_path(self, image_id: int) -> str:
        return osp.join(self.out_dir, f'{image_id:012d}.png')

    @staticmethod
    def item_id(item: Item) -> str:
        return f'image {item[0]}'

    def run(self, item: Item) -> str:
        image_id, height, width, instances = item
        out = self.out_path(image_id)
        if osp.exists(out):
            return 'skipped'
        label = paint_semantic(height, width, instances, self.crowd)
        save_indexed_png(out, label, self.palette)
        return 'written'


def write_list(path: str, image_ids: Sequence[int]) -> None:
    """Write 12-digit image ids, one per line, atomically."""
    atomic_write_bytes(path,
                       ''.join(f'{i:012d}\n' for i in image_ids).encode())


def convert_split(coco_root: str, split: str, out_dir: str, crowd: str,
                  nproc: int = 1) -> Tuple[int, int]:
    """Masks and ``{split}.txt`` of one split; returns (masks written,
    images in the split)."""
    path = osp.join(coco_root, 'annotations', f'instances_{split}.json')
    print(f'reading {path}')
    images, cat_index, per_image = load_instances(path)
    items = image_items(images, cat_index, per_image, path)
    job = MaskJob(out_dir, crowd)
    todo = [it for it in items if not osp.exists(job.out_path(it[0]))]
    print(f'{split}: {len(items)} images ({len(items) - len(todo)} masks '
          f'already in {out_dir}), {len(todo)} to write')
    results = run_jobs(job, todo, nproc, f'{split} masks')
    write_list(osp.join(coco_root, f'{split}.txt'), [it[0] for it in items])
    return results.count('written'), len(items)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    out_dir = args.out_dir or osp.join(args.coco_root, 'coco_seg_anno')
    try:
        import pycocotools  # noqa: F401
    except ImportError:
        print('error: pycocotools is not installed; pip install -r '
              'requirements/runtime.txt', file=sys.stderr)
        return 1
    os.makedirs(out_dir, exist_ok=True)
    try:
        for split in args.splits:
            convert_split(args.coco_root, split, out_dir, args.crowd,
                          args.nproc)
    except (DataError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
