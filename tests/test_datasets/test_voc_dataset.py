"""VOCClsDataset: labels from VOC XML annotations."""
import os.path as osp

import numpy as np
import pytest

from mmwsss.datasets import VOC_CLASSES, VOCClsDataset
from mmwsss.datasets.voc import parse_voc_objects
from .builders import make_voc, write_xml

C = len(VOC_CLASSES) - 1
IDX = {name: i - 1 for i, name in enumerate(VOC_CLASSES)}


def label_of(*names):
    label = np.zeros(C, np.float32)
    label[[IDX[n] for n in names]] = 1
    return label


@pytest.fixture
def xml_root(tmp_path):
    objects = {
        'a': [
            ('dog', (2, 3, 20, 30), 0),
            ('cat', (5, 5, 15, 15), 1),  # difficult
            ('bird', (60, 4, 70, 20), 0),  # x clipped to 47..47: zero width
            ('horse', (4, 39, 10, 50), 0),  # y clipped to 39..39: zero height
        ],
        'b': [('person', (1, 1, 30, 30), 0), ('person', (2, 2, 9, 9), 0)],
        'c': [('chair', (3, 3, 9, 9), 1)],  # difficult only
    }
    # Masks only for 'a': the XML source must not need them.
    return make_voc(str(tmp_path), {'a': [12], 'b': None, 'c': None},
                    objects)


def test_xml_labels(xml_root):
    ds = VOCClsDataset(data_root=xml_root, label_source='xml')
    assert len(ds) == 3
    np.testing.assert_array_equal(ds.get_data_info(0)['gt_label'],
                                  label_of('dog', 'cat'))
    np.testing.assert_array_equal(ds.get_data_info(1)['gt_label'],
                                  label_of('person'))
    assert ds.get_data_info(0)['seg_map_path'].endswith('a.png')
    assert ds.get_data_info(1)['seg_map_path'] is None


def test_xml_without_difficult(xml_root):
    ds = VOCClsDataset(
        data_root=xml_root, label_source='xml', include_difficult=False,
        skip_background_only=False)
    np.testing.assert_array_equal(ds.get_data_info(0)['gt_label'],
                                  label_of('dog'))
    np.testing.assert_array_equal(ds.get_data_info(2)['gt_label'],
                                  label_of())
    skipped = VOCClsDataset(
        data_root=xml_root, label_source='xml', include_difficult=False)
    assert len(skipped) == 2


def test_size_from_image_when_xml_has_none(tmp_path):
    path = str(tmp_path / 'x.xml')
    write_xml(path, [('dog', (2, 2, 9, 9), 0), ('cat', (50, 2, 60, 9), 0)],
              size=None)
    img = osp.join(make_voc(str(tmp_path), {'x': None}), 'JPEGImages',
                   'x.jpg')  # 40 x 48: the cat box clips to zero width
    assert parse_voc_objects(path, img) == ['dog']
    assert parse_voc_objects(path) == ['dog', 'cat']  # no size: no clipping


def test_data_prefix_keys_default(xml_root):
    ds = VOCClsDataset(
        data_root=xml_root, label_source='xml',
        data_prefix=dict(seg_map_path='SegmentationClass'))
    assert ds.data_prefix['img_path'].endswith('JPEGImages')
    assert ds.data_prefix['xml_path'].endswith('Annotations')
    assert ds.get_data_info(0)['seg_map_path'] is None  # no such folder


def test_missing_xml(xml_root):
    with pytest.raises(FileNotFoundError) as e:
        VOCClsDataset(
            data_root=xml_root, label_source='xml',
            data_prefix=dict(xml_path='Missing'))
    assert osp.join('Missing', 'a.xml') in str(e.value)
    assert 'data_prefix.xml_path' in str(e.value)


def test_corrupt_xml(xml_root):
    with open(osp.join(xml_root, 'Annotations', 'b.xml'), 'w') as f:
        f.write('<annotation><object><name>dog</name>')
    with pytest.raises(ValueError) as e:
        VOCClsDataset(data_root=xml_root, label_source='xml')
    assert osp.join('Annotations', 'b.xml') in str(e.value)
    assert 'cannot parse' in str(e.value)


def test_bad_box_value(xml_root):
    write_xml(osp.join(xml_root, 'Annotations', 'c.xml'),
              [('dog', ('left', 1, 5, 5), 0)])
    with pytest.raises(ValueError, match=r'c\.xml: <xmin> is not a number'):
        VOCClsDataset(data_root=xml_root, label_source='xml')


def test_unknown_class_in_xml(xml_root):
    write_xml(osp.join(xml_root, 'Annotations', 'c.xml'),
              [('unicorn', (1, 1, 9, 9), 0)])
    with pytest.raises(ValueError) as e:
        VOCClsDataset(data_root=xml_root, label_source='xml')
    assert osp.join('Annotations', 'c.xml') in str(e.value)
    assert "'unicorn'" in str(e.value)
