"""MS COCO 2014 (81-class object segmentation, VOC-format masks) for
WSSS."""
import json
import logging
import os.path as osp
import re
from typing import Any, Dict, List, Set, Tuple

import numpy as np
from mmengine.logging import print_log

from mmwsss.registry import DATASETS
from mmwsss.utils.palette import make_palette
from .base import WSSSDataset, check_unique_ids, label_from_indices

COCO14_CLASSES = (
    'background', 'person', 'bicycle', 'car', 'motorcycle', 'airplane',
    'bus', 'train', 'truck', 'boat', 'traffic light', 'fire hydrant',
    'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse',
    'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack',
    'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis',
    'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove',
    'skateboard', 'surfboard', 'tennis racket', 'bottle', 'wine glass',
    'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich',
    'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake',
    'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv',
    'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave',
    'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase',
    'scissors', 'teddy bear', 'hair drier', 'toothbrush')
COCO14_PALETTE = make_palette(len(COCO14_CLASSES))

_TRAILING_DIGITS = re.compile(r'(\d+)$')


def coco_category_mapping(categories: List[Dict[str, Any]]) -> Dict[int, int]:
    """COCO category id (1..90, with gaps) -> contiguous label index
    (0..79), in sorted-category-id order."""
    return {cid: i for i, cid in enumerate(sorted(c['id']
                                                  for c in categories))}


def _fill(template: str, image_id: int, suffix: str) -> str:
    """File name from a template using ``{id}`` (or positional ``{}``);
    ``suffix`` is appended when the name has no extension."""
    name = template.format(image_id, id=image_id)
    return name if osp.splitext(name)[1] else name + suffix


def check_name_templates(**templates: str) -> None:
    """Fail early, naming the argument, on a template ``_fill`` rejects."""
    for key, template in templates.items():
        try:
            _fill(template, 0, '')
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f'{key}={template!r} must be a format '
                             f'string using {{id}} ({e})') from e


def parse_coco_id(token: str, where: str) -> int:
    """Integer image id of a list entry (``000000000009``, ``9`` or
    ``COCO_train2014_000000000009.jpg``); ``where`` names file:line."""
    match = _TRAILING_DIGITS.search(osp.splitext(osp.basename(token))[0])
    if match is None:
        raise ValueError(f'{where}: {token!r} is not a COCO image id')
    return int(match.group(1))


def parse_coco_ids(lines: List[Tuple[int, str]],
                   ann_file: str) -> List[Tuple[int, int]]:
    """(integer image id, line number) of each list line (its first field,
    see :func:`parse_coco_id`); an id listed twice, in any spelling, is
    refused."""
    ids = [(parse_coco_id(line.split()[0], f'{ann_file}:{lineno}'), lineno)
           for lineno, line in lines]
    check_unique_ids([(f'{i:012d}', lineno) for i, lineno in ids], ann_file)
    return ids


class COCOFileNames:
    """Mixin of the COCO data sets (classification and segmentation), before
    the data set class: images and masks named by templates of the integer
    image id, each appended ``img_suffix`` / ``seg_map_suffix`` when it has
    no extension.

    Args:
        img_name_template: image file name, a format string using ``{id}``
            (or ``{}``); checked here, naming the argument.
        seg_name_template: mask file name, likewise.
        **kwargs: the data set class's arguments.
    """
    img_suffix: str
    seg_map_suffix: str

    def __init__(self,
                 img_name_template: str = 'COCO_train2014_{id:012d}.jpg',
                 seg_name_template: str = '{id:012d}.png',
                 **kwargs) -> None:
        check_name_templates(
            img_name_template=img_name_template,
            seg_name_template=seg_name_template)
        self.img_name_template = img_name_template
        self.seg_name_template = seg_name_template
        super().__init__(**kwargs)

    def _img_file(self, image_id: int) -> str:
        return _fill(self.img_name_template, image_id, self.img_suffix)

    def _seg_file(self, image_id: int) -> str:
        return _fill(self.seg_name_template, image_id, self.seg_map_suffix)


def _norm(name: str) -> str:
    return re.sub(r'[\s_-]+', '', str(name).lower())


@DATASETS.register_module()
class COCO14ClsDataset(COCOFileNames, WSSSDataset):
    """MS COCO 2014 for WSSS: 81 segmentation classes (background + the 80
    COCO categories in standard order), 80 image-level classes.

    Layout under ``data_root``: images
    ``{data_prefix.img_path}/{img_name_template}`` (``train2014/
    COCO_train2014_{id:012d}.jpg``; for val set ``img_path='val2014'`` and
    ``img_name_template='COCO_val2014_{id:012d}.jpg'``), VOC-format masks
    ``coco_seg_anno/{id:012d}.png`` (indices 0..80, 255 ignore). ann_file
    lists image ids, one per line (``000000000009``, ``9`` or
    ``COCO_train2014_000000000009`` all work); ``img_id`` is the id padded
    to 12 digits.

    80 vs 91: COCO category ids run 1..90 with gaps (91 with background),
    but masks and labels use 80 contiguous foreground indices (81 with
    background). ``label_source='json'`` maps category ids to 0..79 in
    sorted-id order; using raw category ids as indices is the classic
    91-vs-81 bug.

    Args:
        img_name_template: image file name; ``{id}`` (or ``{}``) is the int
            image id; ``img_suffix`` is appended when it has no extension.
        seg_name_template: mask file name, likewise (``seg_map_suffix``).
        label_source: ``'mask'`` (mask values), ``'json'`` (an instances
            JSON, ``instances_file``) or ``'npy'`` (``cls_labels_file``,
            ``{int image id: float[80]}`` as saved with ``np.save`` of a
            dict).
        instances_file: COCO instances JSON, relative to data_root.
        cls_labels_file: ``cls_labels_coco.npy``, relative to data_root.
        include_crowd: with ``'json'``, count ``iscrowd`` annotations.
        **kwargs: :class:`WSSSDataset` arguments.
    """
    METAINFO = dict(
        classes=COCO14_CLASSES, palette=[list(c) for c in COCO14_PALETTE])
    LABEL_SOURCES = ('mask', 'json', 'npy')
    LAYOUT_HINT = (
        'expected MS COCO 2014 with VOC-format masks, laid out as '
        'data/coco14/{train2014, val2014, coco_seg_anno, train2014.txt, '
        'val2014.txt}, or point data_root at your copy')
    DEFAULT_PREFIX = (('img_path', 'train2014'),
                      ('seg_map_path', 'coco_seg_anno'))

    def __init__(self,
                 ann_file: str = '',
                 label_source: str = 'mask',
                 instances_file: str = 'annotations/instances_train2014.json',
                 cls_labels_file: str = 'cls_labels_coco.npy',
                 include_crowd: bool = True,
                 **kwargs) -> None:
        self.instances_file = instances_file
        self.cls_labels_file = cls_labels_file
        self.include_crowd = include_crowd
        super().__init__(
            ann_file=ann_file, label_source=label_source, **kwargs)

    def _read_ann_file(self) -> List[dict]:
        return [
            dict(img_id=f'{image_id:012d}', _lineno=lineno) for image_id,
            lineno in parse_coco_ids(self._read_ann_lines(), self.ann_file)
        ]

    def _img_name(self, entry: dict) -> str:
        return self._img_file(int(entry['img_id']))

    def _seg_name(self, entry: dict) -> str:
        return self._seg_file(int(entry['img_id']))

    def _load_labels(self, data_list: List[dict]) -> List[np.ndarray]:
        if self.label_source == 'json':
            return self._labels_from_json(data_list)
        if self.label_source == 'npy':
            return self._labels_from_npy(data_list)
        return super()._load_labels(data_list)

    def _labels_from_json(self, data_list: List[dict]) -> List[np.ndarray]:
        path = self._join_root(self.instances_file)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'instances JSON not found: {path}; check `instances_file` '
                "(relative to data_root) or use label_source='mask'/'npy'")
        try:
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
            categories = data['categories']
            annotations = data['annotations']
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f'{path}: not a COCO instances JSON '
                             f'({type(e).__name__}: {e})') from e
        num_fg = self.num_fg_classes
        mapping = coco_category_mapping(categories)
        if len(mapping) != num_fg:
            raise ValueError(
                f'{path}: {len(mapping)} categories, but metainfo has '
                f'{num_fg} foreground classes')
        names = {c['id']: c.get('name', '') for c in categories}
        fg = self._check_classes()[1:]
        mismatched = [(names[cid], fg[i]) for cid, i in mapping.items()
                      if _norm(names[cid]) != _norm(fg[i])]
        if mismatched:
            print_log(
                f'{path}: {len(mismatched)} category names differ from '
                f'metainfo classes in sorted-id order, e.g. '
                f'{mismatched[0][0]!r} vs {mismatched[0][1]!r}',
                logger='current', level=logging.WARNING)
        per_image: Dict[int, Set[int]] = {}
        for ann in annotations:
            if not self.include_crowd and ann.get('iscrowd', 0):
                continue
            cid = ann.get('category_id')
            if cid not in mapping:
                raise ValueError(f'{path}: annotation {ann.get("id")} has '
                                 f'unknown category_id {cid}')
            per_image.setdefault(int(ann['image_id']), set()).add(
                mapping[cid])
        return [
            label_from_indices(
                sorted(per_image.get(int(d['img_id']), ())), num_fg)
            for d in data_list
        ]

    def _labels_from_npy(self, data_list: List[dict]) -> List[np.ndarray]:
        path = self._join_root(self.cls_labels_file)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'class label file not found: {path}; check '
                "`cls_labels_file` (relative to data_root) or use "
                "label_source='mask'/'json'")
        try:
            table = np.load(path, allow_pickle=True).item()
            if not isinstance(table, dict):
                raise TypeError(f'holds a {type(table).__name__}, not a dict')
        except (ValueError, TypeError, OSError, EOFError) as e:
            raise ValueError(f'{path}: expected a pickled dict '
                             f'{{image id: float[{self.num_fg_classes}]}} '
                             f'({e})') from e
        num_fg = self.num_fg_classes
        labels = []
        for d in data_list:
            key = int(d['img_id'])
            for candidate in (key, d['img_id'], str(key)):
                if candidate in table:
                    vec = np.asarray(table[candidate], np.float32).ravel()
                    break
            else:
                raise ValueError(f'{path}: no label for image id {key} '
                                 f'(listed in {self.ann_file})')
            if vec.shape != (num_fg, ):
                raise ValueError(f'{path}: label of image {key} has '
                                 f'{vec.size} entries, expected {num_fg}')
            labels.append((vec > 0.5).astype(np.float32))
        return labels
