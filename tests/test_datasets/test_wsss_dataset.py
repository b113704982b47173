"""WSSSDataset behaviour through VOCClsDataset with mask labels: entries,
label derivation, background-only policy, metainfo and input errors."""
import os
import os.path as osp

import numpy as np
import pytest

import mmwsss.datasets  # noqa: F401  (registers the data sets)
from mmwsss.datasets import VOC_CLASSES, VOCClsDataset, WSSSDataset
from mmwsss.registry import DATASETS
from .builders import blob_mask, make_voc, write_lines, write_mask

C = len(VOC_CLASSES) - 1


def onehot(*indices):
    label = np.zeros(C, np.float32)
    label[list(indices)] = 1
    return label


@pytest.fixture
def voc_root(tmp_path):
    return make_voc(
        str(tmp_path / 'voc'), {
            '2007_000001': [1, 15],  # aeroplane, person
            '2007_000002': [12],  # dog
            '2007_000003': [],  # background only (0 and 255)
        })


def test_entries_and_mask_labels(voc_root):
    ds = VOCClsDataset(data_root=voc_root, skip_background_only=False)
    assert len(ds) == 3
    info = ds.get_data_info(0)
    assert info['img_id'] == '2007_000001'
    assert info['img_path'] == osp.join(voc_root, 'JPEGImages',
                                        '2007_000001.jpg')
    assert info['seg_map_path'] == osp.join(voc_root, 'SegmentationClassAug',
                                            '2007_000001.png')
    assert info['gt_label'].dtype == np.float32
    np.testing.assert_array_equal(info['gt_label'], onehot(0, 14))
    np.testing.assert_array_equal(ds.get_data_info(1)['gt_label'], onehot(11))
    np.testing.assert_array_equal(ds.get_data_info(2)['gt_label'], onehot())
    assert info['label_map'] is None
    assert info['reduce_zero_label'] is False and info['seg_fields'] == []
    assert ds.get_cat_ids(0) == [0, 14]
    assert ds.metainfo['classes'] == VOC_CLASSES
    assert len(ds.metainfo['palette']) == len(VOC_CLASSES)
    # Empty pipeline: __getitem__ returns the entry itself.
    assert ds[1]['img_id'] == '2007_000002'


def test_grayscale_masks_are_index_maps(tmp_path):
    root = make_voc(str(tmp_path), {'a': None})
    write_mask(osp.join(root, 'SegmentationClassAug', 'a.png'),
               blob_mask([3, 20]), mode='L')
    ds = VOCClsDataset(data_root=root)
    np.testing.assert_array_equal(ds.get_data_info(0)['gt_label'],
                                  onehot(2, 19))


def test_background_only_skipped_and_logged(voc_root, monkeypatch):
    messages = []
    monkeypatch.setattr('mmwsss.datasets.base.print_log',
                        lambda msg, **kw: messages.append(msg))
    ds = VOCClsDataset(data_root=voc_root)
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == [
        '2007_000001', '2007_000002'
    ]
    assert len(messages) == 1 and 'skipped 1 of 3' in messages[0]


def test_build_from_registry_and_lazy_init(voc_root):
    ds = DATASETS.build(
        dict(type='VOCClsDataset', data_root=voc_root, lazy_init=True))
    assert isinstance(ds, WSSSDataset)
    ds.full_init()
    assert len(ds) == 2


def test_replacement_classes_get_a_palette(tmp_path):
    root = make_voc(str(tmp_path), {'a': [1, 2], 'b': [3]})
    classes = ('background', 'x', 'y', 'z')
    ds = VOCClsDataset(data_root=root, metainfo=dict(classes=classes))
    assert ds.metainfo['classes'] == classes
    assert len(ds.metainfo['palette']) == 4
    assert ds.get_data_info(0)['label_map'] is None  # no VOC remapping
    np.testing.assert_array_equal(ds.get_data_info(0)['gt_label'],
                                  [1, 1, 0])


def test_classes_from_file(tmp_path):
    root = make_voc(str(tmp_path), {'a': [2]})
    classes_txt = write_lines(str(tmp_path / 'classes.txt'),
                              ['background', 'x', 'y'])
    ds = VOCClsDataset(data_root=root, metainfo=dict(classes=classes_txt))
    assert tuple(ds.metainfo['classes']) == ('background', 'x', 'y')
    np.testing.assert_array_equal(ds.get_data_info(0)['gt_label'], [0, 1])


def test_background_must_come_first(tmp_path):
    root = make_voc(str(tmp_path), {'a': [1]})
    with pytest.raises(ValueError, match="'background'"):
        VOCClsDataset(data_root=root, metainfo=dict(classes=('x', 'y')))


def test_invalid_arguments(voc_root):
    with pytest.raises(ValueError, match='label_source'):
        VOCClsDataset(data_root=voc_root, label_source='csv')
    with pytest.raises(ValueError, match='reduce_zero_label'):
        VOCClsDataset(data_root=voc_root, reduce_zero_label=True)


def test_missing_ann_file(voc_root):
    with pytest.raises(FileNotFoundError) as e:
        VOCClsDataset(data_root=voc_root, ann_file='ImageSets/nope.txt')
    assert osp.join(voc_root, 'ImageSets/nope.txt') in str(e.value)
    assert '`ann_file`' in str(e.value)


def test_missing_image(voc_root):
    os.remove(osp.join(voc_root, 'JPEGImages', '2007_000002.jpg'))
    with pytest.raises(FileNotFoundError) as e:
        VOCClsDataset(data_root=voc_root)
    assert '2007_000002.jpg' in str(e.value)
    assert 'data_prefix.img_path' in str(e.value)


def test_missing_mask(voc_root):
    os.remove(osp.join(voc_root, 'SegmentationClassAug', '2007_000002.png'))
    with pytest.raises(FileNotFoundError) as e:
        VOCClsDataset(data_root=voc_root)
    assert osp.join('SegmentationClassAug', '2007_000002.png') in str(e.value)
    assert 'data_prefix.seg_map_path' in str(e.value)


def test_mask_value_out_of_range(tmp_path):
    root = make_voc(str(tmp_path), {'a': [1], 'b': [21]})
    with pytest.raises(ValueError) as e:
        VOCClsDataset(data_root=root)
    msg = str(e.value)
    assert osp.join('SegmentationClassAug', 'b.png') in msg
    assert 'value 21' in msg and 'metainfo classes' in msg


def test_colour_mask_refused(tmp_path):
    root = make_voc(str(tmp_path), {'a': None})
    write_mask(osp.join(root, 'SegmentationClassAug', 'a.png'),
               blob_mask([1]), mode='RGB')
    with pytest.raises(ValueError, match=r'a\.png.*mode "RGB"'):
        VOCClsDataset(data_root=root)


def test_corrupt_mask(tmp_path):
    root = make_voc(str(tmp_path), {'a': [1]})
    with open(osp.join(root, 'SegmentationClassAug', 'a.png'), 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(ValueError, match=r'a\.png: cannot read mask'):
        VOCClsDataset(data_root=root)


def test_empty_dataset(tmp_path):
    root = make_voc(str(tmp_path), {'a': [], 'b': []})
    with pytest.raises(ValueError) as e:
        VOCClsDataset(data_root=root)
    assert 'train_aug.txt' in str(e.value)
    assert 'skip_background_only' in str(e.value)
    assert len(VOCClsDataset(data_root=root,
                             skip_background_only=False)) == 2


def test_empty_ann_file(tmp_path):
    root = make_voc(str(tmp_path), {'a': [1]})
    write_lines(osp.join(root, 'empty.txt'), ['# nothing'])
    with pytest.raises(ValueError, match='empty.txt lists no images'):
        VOCClsDataset(data_root=root, ann_file='empty.txt')


def test_many_masks_read_in_threads(tmp_path):
    masks = {f'{i:03d}': [1 + i % 20] for i in range(40)}
    root = make_voc(str(tmp_path), masks)
    serial = VOCClsDataset(data_root=root, load_workers=0)
    threaded = VOCClsDataset(data_root=root, load_workers=4)
    for i in range(40):
        np.testing.assert_array_equal(
            serial.get_data_info(i)['gt_label'],
            threaded.get_data_info(i)['gt_label'])
        assert serial.get_cat_ids(i) == [i % 20]


def test_missing_voc_folder_says_what_to_get(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        VOCClsDataset(data_root=str(tmp_path / 'data' / 'VOCdevkit' /
                                    'VOC2012'))
    msg = str(e.value)
    assert 'train_aug.txt' in msg
    assert 'VOC 2012' in msg and 'SBD' in msg
    assert ('data/VOCdevkit/VOC2012/{JPEGImages, SegmentationClassAug, '
            'Annotations, ImageSets/Segmentation/') in msg


def test_duplicate_id_names_file_id_and_lines(voc_root):
    ann = osp.join(voc_root, 'ImageSets', 'Segmentation', 'dup.txt')
    write_lines(ann, ['2007_000001', '2007_000002', '', '2007_000001'])
    with pytest.raises(ValueError) as e:
        VOCClsDataset(data_root=voc_root,
                      ann_file='ImageSets/Segmentation/dup.txt')
    msg = str(e.value)
    assert ann in msg and "'2007_000001'" in msg and 'lines 1, 4' in msg
