"""PASCAL VOC 2012 (+ SBD aug masks) for WSSS."""
import os.path as osp
import xml.etree.ElementTree as ET
from typing import List, Optional, Tuple

import numpy as np
from PIL import Image

from mmwsss.registry import DATASETS
from mmwsss.utils.palette import make_palette
from .base import WSSSDataset, label_from_indices

VOC_CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat',
               'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable',
               'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep',
               'sofa', 'train', 'tvmonitor')
VOC_PALETTE = make_palette(len(VOC_CLASSES))


def _xml_float(node: Optional[ET.Element], tag: str, path: str) -> float:
    """Numeric text of ``node/tag``; a parse failure names the file."""
    child = node.find(tag) if node is not None else None
    if child is None or child.text is None:
        raise ValueError(f'{path}: <{tag}> is missing')
    try:
        return float(child.text.strip())
    except ValueError as e:
        raise ValueError(f'{path}: <{tag}> is not a number: '
                         f'{child.text!r}') from e


def parse_voc_objects(xml_path: str,
                      img_path: Optional[str] = None,
                      include_difficult: bool = True) -> List[str]:
    """Class names of the objects of a VOC annotation XML.

    Every ``<object>`` counts, except difficult ones when
    ``include_difficult`` is False and those whose box, clipped to
    ``[0, W-1] x [0, H-1]``, has no width or height (README: data). The
    image size comes from ``<size>``, or from ``img_path`` when the XML has
    none. Objects without a ``<bndbox>`` count.
    """
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as e:
        raise ValueError(f'{xml_path}: cannot parse annotation XML '
                         f'({e})') from e
    size = root.find('size')
    width = height = 0.
    if size is not None and size.find('width') is not None:
        width = _xml_float(size, 'width', xml_path)
        height = _xml_float(size, 'height', xml_path)
    if (width <= 0 or height <= 0) and img_path is not None:
        with Image.open(img_path) as img:
            width, height = img.size
    names = []
    for obj in root.iter('object'):
        name_node = obj.find('name')
        if name_node is None or not (name_node.text or '').strip():
            raise ValueError(f'{xml_path}: an <object> has no <name>')
        difficult = obj.find('difficult')
        if (not include_difficult and difficult is not None
                and (difficult.text or '').strip()
                and _xml_float(obj, 'difficult', xml_path) != 0):
            continue
        box = obj.find('bndbox')
        if box is not None and width > 0 and height > 0:
            x1, y1, x2, y2 = (
                _xml_float(box, tag, xml_path)
                for tag in ('xmin', 'ymin', 'xmax', 'ymax'))
            x1, x2 = np.clip([x1, x2], 0, width - 1)
            y1, y2 = np.clip([y1, y2], 0, height - 1)
            if x2 - x1 <= 0 or y2 - y1 <= 0:
                continue
        names.append(name_node.text.strip())
    return names


@DATASETS.register_module()
class VOCClsDataset(WSSSDataset):
    """PASCAL VOC 2012 with SBD aug masks, for WSSS.

    Layout under ``data_root``: ``JPEGImages/{id}.jpg``,
    ``SegmentationClassAug/{id}.png`` (``data_prefix.seg_map_path``, e.g.
    ``SegmentationClass`` for the official masks), ``Annotations/{id}.xml``
    (``data_prefix.xml_path``) and lists such as
    ``ImageSets/Segmentation/train_aug.txt`` (one id per line). Keys missing
    from ``data_prefix`` take these defaults.

    Args:
        label_source: ``'mask'`` (labels = mask values) or ``'xml'`` (the
            ``<object>`` names of the annotation XML, as P-NOC does).
        include_difficult: with ``'xml'``, count objects marked difficult.
        **kwargs: :class:`WSSSDataset` arguments.
    """
    METAINFO = dict(
        classes=VOC_CLASSES, palette=[list(c) for c in VOC_PALETTE])
    LABEL_SOURCES = ('mask', 'xml')
    LAYOUT_HINT = (
        'expected Pascal VOC 2012 + SBD: get VOC 2012 (VOCtrainval_11-May-'
        '2012.tar) and the SBD-augmented masks (SegmentationClassAug) and lay '
        'them out as data/VOCdevkit/VOC2012/{JPEGImages, '
        'SegmentationClassAug, Annotations, ImageSets/Segmentation/'
        '{train_aug,train,val}.txt}, or point data_root at your copy (the '
        'synthetic set in this layout: tools/generate_synthetic.py DIR)')
    DEFAULT_PREFIX = (('img_path', 'JPEGImages'),
                      ('seg_map_path', 'SegmentationClassAug'),
                      ('xml_path', 'Annotations'))

    def __init__(self,
                 ann_file: str = 'ImageSets/Segmentation/train_aug.txt',
                 label_source: str = 'mask',
                 include_difficult: bool = True,
                 **kwargs) -> None:
        self.include_difficult = include_difficult
        super().__init__(
            ann_file=ann_file, label_source=label_source, **kwargs)

    def _load_labels(self, data_list: List[dict]) -> List[np.ndarray]:
        if self.label_source == 'xml':
            return self._labels_from_xml(data_list)
        return super()._load_labels(data_list)

    def _class_index(self) -> Tuple[dict, Tuple[str, ...]]:
        """Foreground name -> label index, and the names."""
        fg = self._check_classes()[1:]
        return {name: i for i, name in enumerate(fg)}, fg

    def _labels_from_xml(self, data_list: List[dict]) -> List[np.ndarray]:
        index, fg = self._class_index()
        xml_dir = self.data_prefix.get('xml_path', '')
        labels = []
        for info in data_list:
            path = osp.join(xml_dir, info['img_id'] + '.xml')
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'annotation XML not found: {path} (listed in '
                    f'{self.ann_file}); check `data_prefix.xml_path`, or use '
                    "label_source='mask'")
            names = parse_voc_objects(path, info['img_path'],
                                      self.include_difficult)
            unknown = [n for n in names if n not in index]
            if unknown:
                raise ValueError(
                    f'{path}: unknown class name {unknown[0]!r}; metainfo '
                    f'classes are {fg}')
            labels.append(
                label_from_indices([index[n] for n in names], len(fg)))
        return labels
