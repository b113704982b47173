"""COCO14ClsDataset: file naming, mask / instances JSON / npy labels."""
import os.path as osp

import numpy as np
import pytest

from mmwsss.datasets import COCO14_CLASSES, COCO14ClsDataset
from .builders import (COCO_CAT_IDS, blob_mask, coco_instances, write_image,
                       write_json, write_lines, write_mask)

C = 80


def onehot(*indices):
    label = np.zeros(C, np.float32)
    label[list(indices)] = 1
    return label


@pytest.fixture
def coco_root(tmp_path):
    root = str(tmp_path / 'coco14')
    masks = {9: [1, 80], 25: [12], 30: []}
    for i, (image_id, values) in enumerate(masks.items()):
        write_image(
            osp.join(root, 'train2014', f'COCO_train2014_{image_id:012d}.jpg'),
            seed=i)
        write_mask(osp.join(root, 'coco_seg_anno', f'{image_id:012d}.png'),
                   blob_mask(values))
    # Ids in the three accepted spellings.
    write_lines(osp.join(root, 'train2014.txt'),
                ['9', '000000000025', 'COCO_train2014_000000000030.jpg'])
    return root


def test_classes():
    assert len(COCO14_CLASSES) == 81 and COCO14_CLASSES[0] == 'background'
    assert COCO14_CLASSES[1] == 'person' and COCO14_CLASSES[-1] == 'toothbrush'


def test_mask_labels_and_names(coco_root):
    ds = COCO14ClsDataset(
        data_root=coco_root, ann_file='train2014.txt',
        skip_background_only=False)
    info = ds.get_data_info(0)
    assert info['img_id'] == '000000000009'
    assert info['img_path'].endswith(
        osp.join('train2014', 'COCO_train2014_000000000009.jpg'))
    assert info['seg_map_path'].endswith(
        osp.join('coco_seg_anno', '000000000009.png'))
    np.testing.assert_array_equal(info['gt_label'], onehot(0, 79))
    np.testing.assert_array_equal(ds.get_data_info(1)['gt_label'],
                                  onehot(11))
    assert ds.get_data_info(2)['img_id'] == '000000000030'
    assert len(COCO14ClsDataset(data_root=coco_root,
                                ann_file='train2014.txt')) == 2


def test_positional_template_without_extension(coco_root):
    ds = COCO14ClsDataset(
        data_root=coco_root, ann_file='train2014.txt',
        img_name_template='COCO_train2014_{:012d}')
    assert ds.get_data_info(0)['img_path'].endswith(
        'COCO_train2014_000000000009.jpg')


def test_bad_template():
    with pytest.raises(ValueError, match='img_name_template'):
        COCO14ClsDataset(ann_file='x.txt', img_name_template='{image}.jpg')


def test_json_labels_map_category_ids(coco_root):
    # Category ids 13 -> index 11 (stop sign), 90 -> 79 (toothbrush),
    # 1 -> 0 (person, crowd only); 30 has no annotation.
    assert COCO_CAT_IDS[11] == 13 and COCO_CAT_IDS[79] == 90
    data = coco_instances({
        9: [(13, 0), (90, 0), (90, 0)],
        25: [(1, 1)],
        30: []
    }, COCO14_CLASSES[1:])
    write_json(osp.join(coco_root, 'annotations', 'instances_train2014.json'),
               data)
    ds = COCO14ClsDataset(
        data_root=coco_root, ann_file='train2014.txt', label_source='json',
        skip_background_only=False)
    np.testing.assert_array_equal(ds.get_data_info(0)['gt_label'],
                                  onehot(11, 79))
    np.testing.assert_array_equal(ds.get_data_info(1)['gt_label'], onehot(0))
    np.testing.assert_array_equal(ds.get_data_info(2)['gt_label'], onehot())
    no_crowd = COCO14ClsDataset(
        data_root=coco_root, ann_file='train2014.txt', label_source='json',
        include_crowd=False)
    assert [no_crowd.get_data_info(i)['img_id']
            for i in range(len(no_crowd))] == ['000000000009']


def test_json_with_91_categories_is_refused(coco_root):
    data = coco_instances({9: [(1, 0)]}, COCO14_CLASSES[1:])
    data['categories'].append(dict(id=91, name='extra'))
    path = write_json(osp.join(coco_root, 'inst.json'), data)
    with pytest.raises(ValueError) as e:
        COCO14ClsDataset(
            data_root=coco_root, ann_file='train2014.txt',
            label_source='json', instances_file='inst.json')
    assert path in str(e.value) and '81 categories' in str(e.value)


def test_json_unknown_category(coco_root):
    data = coco_instances({9: [(12, 0)]}, COCO14_CLASSES[1:])  # 12: a gap
    path = write_json(osp.join(coco_root, 'inst.json'), data)
    with pytest.raises(ValueError, match='unknown category_id 12') as e:
        COCO14ClsDataset(
            data_root=coco_root, ann_file='train2014.txt',
            label_source='json', instances_file='inst.json')
    assert path in str(e.value)


def test_json_missing_and_corrupt(coco_root):
    with pytest.raises(FileNotFoundError, match='instances_file'):
        COCO14ClsDataset(
            data_root=coco_root, ann_file='train2014.txt',
            label_source='json', instances_file='nope.json')
    path = osp.join(coco_root, 'bad.json')
    with open(path, 'w') as f:
        f.write('{"images": [')
    with pytest.raises(ValueError) as e:
        COCO14ClsDataset(
            data_root=coco_root, ann_file='train2014.txt',
            label_source='json', instances_file='bad.json')
    assert path in str(e.value)


def test_npy_labels(coco_root):
    table = {9: onehot(3, 4), 25: onehot(79), 30: onehot()}
    np.save(osp.join(coco_root, 'cls_labels_coco.npy'), table)
    ds = COCO14ClsDataset(
        data_root=coco_root, ann_file='train2014.txt', label_source='npy')
    assert len(ds) == 2
    np.testing.assert_array_equal(ds.get_data_info(0)['gt_label'],
                                  onehot(3, 4))
    np.testing.assert_array_equal(ds.get_data_info(1)['gt_label'],
                                  onehot(79))


def test_npy_missing_id_and_wrong_length(coco_root):
    path = osp.join(coco_root, 'cls_labels_coco.npy')
    np.save(path, {9: onehot(1), 25: onehot(2)})
    with pytest.raises(ValueError) as e:
        COCO14ClsDataset(
            data_root=coco_root, ann_file='train2014.txt', label_source='npy')
    assert path in str(e.value) and 'image id 30' in str(e.value)
    np.save(path, {9: np.ones(20), 25: onehot(2), 30: onehot()})
    with pytest.raises(ValueError, match='20 entries, expected 80'):
        COCO14ClsDataset(
            data_root=coco_root, ann_file='train2014.txt', label_source='npy')


def test_bad_id_line(coco_root):
    write_lines(osp.join(coco_root, 'bad.txt'), ['9', 'banana'])
    with pytest.raises(ValueError, match=r'bad\.txt:2'):
        COCO14ClsDataset(data_root=coco_root, ann_file='bad.txt')


def test_ann_file_required(coco_root):
    with pytest.raises(ValueError, match='ann_file is not set'):
        COCO14ClsDataset(data_root=coco_root)


def test_duplicate_id_in_any_spelling_refused(coco_root):
    from mmwsss.datasets import COCO14SegDataset
    write_lines(osp.join(coco_root, 'dup.txt'),
                ['9', '000000000025', 'COCO_train2014_000000000009.jpg'])
    for cls in (COCO14ClsDataset, COCO14SegDataset):
        with pytest.raises(ValueError, match=r"dup.txt: image id "
                           r"'000000000009' is listed 2 times "
                           r'\(lines 1, 3\)'):
            cls(data_root=coco_root, ann_file='dup.txt')
