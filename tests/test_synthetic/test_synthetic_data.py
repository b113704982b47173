"""The synthetic VOC-layout generator and loading its output."""
import glob
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmwsss.datasets import VOCClsDataset
from mmwsss.datasets.base import read_mask_values
from mmwsss.datasets.voc import parse_voc_objects
from mmwsss.synthetic import (SYNTHETIC_CLASSES, generate_synthetic_voc,
                              ignore_band)
from mmwsss.utils.palette import make_palette
from tests.conftest import load_tool

PARAMS = dict(num_train=16, num_val=6, image_size=(32, 56), seed=3)
METAINFO = dict(classes=SYNTHETIC_CLASSES,
                palette=make_palette(len(SYNTHETIC_CLASSES)))


@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synth') / 'data')
    summary = generate_synthetic_voc(root, **PARAMS)
    return root, summary


def read_list(root, name):
    with open(osp.join(root, 'ImageSets', 'Segmentation', name)) as f:
        return [line.strip() for line in f if line.strip()]


def tree_bytes(root):
    out = {}
    for path in glob.glob(osp.join(root, '**', '*'), recursive=True):
        if osp.isfile(path):
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


def stems(root, folder, ext):
    return sorted(
        osp.splitext(osp.basename(p))[0]
        for p in glob.glob(osp.join(root, folder, f'*{ext}')))


def test_summary(synth):
    root, summary = synth
    assert summary['generated'] and summary['out_dir'] == osp.abspath(root)
    assert summary['num_images'] == 22
    assert summary['classes'] == list(SYNTHETIC_CLASSES)
    assert sum(summary['images_per_class'].values()) == summary['num_objects']
    assert summary['multi_label_images'] > 0
    with open(osp.join(root, 'classes.txt')) as f:
        assert tuple(f.read().split('\n')[:-1]) == SYNTHETIC_CLASSES
    assert 6 <= len(SYNTHETIC_CLASSES) - 1 <= 8


def test_deterministic_by_seed(synth, tmp_path):
    root, _ = synth
    again = str(tmp_path / 'again')
    generate_synthetic_voc(again, **PARAMS)
    assert tree_bytes(again) == tree_bytes(root)
    other = str(tmp_path / 'other')
    generate_synthetic_voc(other, **dict(PARAMS, seed=4))
    a, b = tree_bytes(root), tree_bytes(other)
    assert a.keys() == b.keys()
    assert a['JPEGImages/syn_00000.jpg'] != b['JPEGImages/syn_00000.jpg']


def test_lists_consistent_with_files(synth):
    root, _ = synth
    train_aug, train, val = (read_list(root, n)
                             for n in ('train_aug.txt', 'train.txt',
                                       'val.txt'))
    assert len(train_aug) == 16 and len(val) == 6 and train
    assert set(train) <= set(train_aug) and not set(train_aug) & set(val)
    ids = sorted(train_aug + val)
    assert stems(root, 'JPEGImages', '.jpg') == ids
    assert stems(root, 'SegmentationClassAug', '.png') == ids
    assert stems(root, 'SegmentationClass', '.png') == ids
    assert stems(root, 'Annotations', '.xml') == ids


def test_images_and_masks(synth):
    root, _ = synth
    for img_id in read_list(root, 'train_aug.txt'):
        with Image.open(osp.join(root, 'JPEGImages', f'{img_id}.jpg')) as im:
            assert im.mode == 'RGB'
            w, h = im.size
        assert 32 <= w <= 56 and 32 <= h <= 56
        aug = osp.join(root, 'SegmentationClassAug', f'{img_id}.png')
        with open(aug, 'rb') as f, open(
                osp.join(root, 'SegmentationClass', f'{img_id}.png'),
                'rb') as g:
            assert f.read() == g.read()
        with Image.open(aug) as m:
            assert m.mode == 'P' and m.size == (w, h)
            mask = np.asarray(m)
        values = set(np.unique(mask).tolist())
        assert 255 in values and values <= set(range(7)) | {255}
        # Every border between two labels runs through the 255 band.
        for a, b in ((mask[1:], mask[:-1]), (mask[:, 1:], mask[:, :-1])):
            assert not ((a != b) & (a != 255) & (b != 255)).any()
        # The band is thin: it never covers a whole object.
        assert (mask == 255).mean() < 0.4


def test_ignore_band_width():
    label = np.zeros((9, 9), np.uint8)
    label[3:, :] = 1
    band = ignore_band(label)
    assert band[2].all() and band[3].all() and not band[[0, 1, 4, 5]].any()


def test_xml_labels_equal_mask_labels(synth):
    root, _ = synth
    for img_id in read_list(root, 'train_aug.txt') + read_list(
            root, 'val.txt'):
        names = parse_voc_objects(
            osp.join(root, 'Annotations', f'{img_id}.xml'))
        assert len(names) == len(set(names)) >= 1  # distinct classes
        values = read_mask_values(
            osp.join(root, 'SegmentationClassAug', f'{img_id}.png'))
        from_mask = {SYNTHETIC_CLASSES[v] for v in values if 0 < v < 255}
        assert set(names) == from_mask


def test_skip_when_parameters_match(synth, tmp_path):
    root, _ = synth
    marker = osp.join(root, 'JPEGImages', 'syn_00000.jpg')
    mtime = os.stat(marker).st_mtime_ns
    again = generate_synthetic_voc(root, **PARAMS)
    assert again['generated'] is False and again['num_images'] == 22
    assert os.stat(marker).st_mtime_ns == mtime
    with open(osp.join(root, 'meta.json')) as f:
        assert json.load(f)['params']['seed'] == 3


def test_regenerate_on_new_parameters(tmp_path):
    root = str(tmp_path / 'd')
    generate_synthetic_voc(root, num_train=4, num_val=2, image_size=(32, 40))
    out = generate_synthetic_voc(root, num_train=3, num_val=1,
                                 image_size=(32, 40))
    assert out['generated'] and len(os.listdir(osp.join(root,
                                                        'JPEGImages'))) == 4
    assert not [p for p in os.listdir(tmp_path) if p.startswith('.')]


def test_refuses_foreign_folder(tmp_path):
    (tmp_path / 'mine.txt').write_text('precious')
    with pytest.raises(FileExistsError, match='not a synthetic data set'):
        generate_synthetic_voc(str(tmp_path), num_train=2, num_val=1)
    assert (tmp_path / 'mine.txt').read_text() == 'precious'


def test_empty_folder_is_filled(tmp_path):
    out = generate_synthetic_voc(str(tmp_path), num_train=2, num_val=1,
                                 image_size=(32, 32))
    assert out['generated'] and osp.isfile(tmp_path / 'meta.json')


def test_loaded_by_voc_dataset(synth):
    root, _ = synth
    by_mask = VOCClsDataset(data_root=root, metainfo=METAINFO)
    by_xml = VOCClsDataset(
        data_root=root, metainfo=METAINFO, label_source='xml',
        data_prefix=dict(seg_map_path='SegmentationClass'))
    assert len(by_mask) == len(by_xml) == 16
    assert by_mask.metainfo['classes'] == SYNTHETIC_CLASSES
    for i in range(len(by_mask)):
        a, b = by_mask.get_data_info(i), by_xml.get_data_info(i)
        assert a['img_id'] == b['img_id']
        assert a['gt_label'].shape == (len(SYNTHETIC_CLASSES) - 1, )
        np.testing.assert_array_equal(a['gt_label'], b['gt_label'])
    val = VOCClsDataset(
        data_root=root, metainfo=METAINFO,
        ann_file='ImageSets/Segmentation/val.txt')
    assert len(val) == 6


def test_classes_txt_as_metainfo(synth):
    root, _ = synth
    ds = VOCClsDataset(
        data_root=root, metainfo=dict(classes=osp.join(root, 'classes.txt')),
        ann_file='ImageSets/Segmentation/val.txt')
    assert tuple(ds.metainfo['classes']) == SYNTHETIC_CLASSES


def load_cli():
    return load_tool('generate_synthetic').main


def test_cli(tmp_path, capsys):
    main = load_cli()
    out = str(tmp_path / 'cli')
    summary = main([out, '--num-train', '3', '--num-val', '2', '--seed', '1',
                    '--min-size', '32', '--max-size', '40'])
    assert summary['num_images'] == 5 and osp.isfile(
        osp.join(out, 'ImageSets', 'Segmentation', 'val.txt'))
    assert 'generated' in capsys.readouterr().out
    assert main([out, '--num-train', '3', '--num-val', '2', '--seed', '1',
                 '--min-size', '32', '--max-size', '40'])['generated'] is False
