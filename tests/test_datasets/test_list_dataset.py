"""ListClsDataset: a user's own images with a list file of labels."""
import os.path as osp

import numpy as np
import pytest

from mmwsss.datasets import ListClsDataset
from .builders import blob_mask, write_image, write_lines, write_mask

CLASSES = ('background', 'cat', 'dog', 'traffic light')


@pytest.fixture
def list_root(tmp_path):
    root = str(tmp_path / 'mine')
    for i, name in enumerate(('a.jpg', 'b.jpg', 'sub/c.png', 'd.jpg')):
        write_image(osp.join(root, 'images', name), seed=i)
    write_lines(
        osp.join(root, 'train.txt'),
        [
            '# image labels...',
            'a.jpg cat dog',
            'b 1',  # no extension: img_suffix; index 1 = dog
            'sub/c.png,traffic light,0',  # CSV: a name with a space
            '',
            'd.jpg background',  # background only
        ])
    return root


def build(root, **kwargs):
    kwargs.setdefault('ann_file', 'train.txt')
    return ListClsDataset(
        data_root=root, data_prefix=dict(img_path='images'),
        metainfo=dict(classes=CLASSES), **kwargs)


def test_names_and_indices(list_root):
    ds = build(list_root, skip_background_only=False)
    assert [ds.get_data_info(i)['img_id'] for i in range(4)] == [
        'a', 'b', 'sub/c', 'd'
    ]
    labels = [ds.get_data_info(i)['gt_label'] for i in range(4)]
    np.testing.assert_array_equal(labels, [[1, 1, 0], [0, 1, 0], [1, 0, 1],
                                           [0, 0, 0]])
    assert ds.get_data_info(1)['img_path'] == osp.join(
        list_root, 'images', 'b.jpg')
    assert ds.get_data_info(2)['img_path'].endswith(
        osp.join('images', 'sub', 'c.png'))
    assert all(ds.get_data_info(i)['seg_map_path'] is None for i in range(4))
    assert len(build(list_root)) == 3


def test_optional_masks(list_root):
    write_mask(osp.join(list_root, 'masks', 'a.png'), blob_mask([1, 2]))
    write_mask(osp.join(list_root, 'masks', 'b.png'), blob_mask([2]))
    write_lines(osp.join(list_root, 'two.txt'), ['a.jpg', 'b.jpg'])
    ds = ListClsDataset(
        data_root=list_root, ann_file='two.txt',
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        metainfo=dict(classes=CLASSES), label_source='mask')
    assert ds.get_data_info(0)['seg_map_path'].endswith(
        osp.join('masks', 'a.png'))
    np.testing.assert_array_equal(ds.get_data_info(0)['gt_label'],
                                  [1, 1, 0])
    with pytest.raises(FileNotFoundError, match='seg_map_path'):
        build(list_root, ann_file='two.txt', label_source='mask')


def test_unknown_name(list_root):
    path = write_lines(osp.join(list_root, 'bad.txt'),
                       ['a.jpg cat', 'b.jpg zebra'])
    with pytest.raises(ValueError, match="unknown class name 'zebra'") as e:
        build(list_root, ann_file='bad.txt')
    assert f'{path}:2' in str(e.value)


def test_index_out_of_range(list_root):
    path = write_lines(osp.join(list_root, 'bad.txt'), ['a.jpg 3'])
    with pytest.raises(ValueError, match='out of range 0..2') as e:
        build(list_root, ann_file='bad.txt')
    assert f'{path}:1' in str(e.value)


def test_missing_image(list_root):
    write_lines(osp.join(list_root, 'bad.txt'), ['a.jpg cat', 'zz.jpg cat'])
    with pytest.raises(FileNotFoundError) as e:
        build(list_root, ann_file='bad.txt')
    assert osp.join('images', 'zz.jpg') in str(e.value)


def test_classes_required(list_root):
    with pytest.raises(ValueError, match='metainfo=dict'):
        ListClsDataset(data_root=list_root, ann_file='train.txt',
                       data_prefix=dict(img_path='images'))


def test_all_background(list_root):
    path = write_lines(osp.join(list_root, 'bg.txt'), ['d.jpg'])
    with pytest.raises(ValueError) as e:
        build(list_root, ann_file='bg.txt')
    assert path in str(e.value)


def test_duplicate_image_refused(list_root):
    write_lines(osp.join(list_root, 'dup.txt'),
                ['a.jpg cat', 'b 1', 'a.jpg dog'])
    with pytest.raises(ValueError, match=r"dup.txt: image id 'a' is listed "
                       r'2 times \(lines 1, 3\)'):
        build(list_root, ann_file='dup.txt')
