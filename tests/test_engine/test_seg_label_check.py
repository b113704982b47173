"""CheckSegLabelsHook: a mask value outside the classes stops training
before it starts, naming the PNG and the valid range."""
import os.path as osp
from types import SimpleNamespace

import pytest
from mmseg.datasets import BaseSegDataset

from mmwsss.engine.hooks import CheckSegLabelsHook, check_mask_labels
from mmwsss.utils.errors import DataError
from tests.test_datasets.builders import blob_mask, make_voc, write_mask

CLASSES = ('background', 'a', 'b', 'c')


def seg_dataset(root: str, **kwargs) -> BaseSegDataset:
    return BaseSegDataset(
        data_root=root, ann_file='ImageSets/Segmentation/train_aug.txt',
        data_prefix=dict(img_path='JPEGImages',
                         seg_map_path='SegmentationClassAug'),
        metainfo=dict(classes=CLASSES), **kwargs)


def test_values_outside_the_classes_name_the_png(tmp_path):
    root = make_voc(str(tmp_path), {'x': [1, 3], 'y': [2], 'z': []})
    assert check_mask_labels(seg_dataset(root), workers=2) == 3
    bad = osp.join(root, 'SegmentationClassAug', 'y.png')
    write_mask(bad, blob_mask([2, 37]))
    with pytest.raises(DataError) as e:
        check_mask_labels(seg_dataset(root))
    msg = str(e.value)
    assert msg.startswith(f'{bad}: mask value 37 is not a class index')
    assert 'valid values are 0..3 and 255 (ignore)' in msg


def test_reduce_zero_label_shifts_the_range(tmp_path):
    # with reduce_zero_label disk value v is class v - 1 (0 becomes 255):
    # 4 fits the 4 classes, 5 does not
    root = make_voc(str(tmp_path), {'x': [1, 4]})
    ds = BaseSegDataset(
        data_root=root, ann_file='ImageSets/Segmentation/train_aug.txt',
        data_prefix=dict(img_path='JPEGImages',
                         seg_map_path='SegmentationClassAug'),
        metainfo=dict(classes=CLASSES), reduce_zero_label=True)
    assert check_mask_labels(ds) == 1
    write_mask(osp.join(root, 'SegmentationClassAug', 'x.png'),
               blob_mask([1, 5]))
    with pytest.raises(DataError, match='mask value 4'):
        check_mask_labels(ds)


def test_hook_checks_the_training_set_before_training(tmp_path):
    root = make_voc(str(tmp_path), {'x': [9]})
    runner = SimpleNamespace(
        train_dataloader=SimpleNamespace(dataset=seg_dataset(root)))
    with pytest.raises(DataError, match='x.png: mask value 9'):
        CheckSegLabelsHook(workers=1).before_train(runner)
