"""tools/dataset_converters/voc_aug.py on tiny VOC / SBD folders written
here: real .mat files in SBD's ``GTcls`` struct layout, VOC palette PNGs."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmwsss.utils.io import save_indexed_png
from mmwsss.utils.palette import voc_palette
from tests.conftest import load_tool

scipy_io = pytest.importorskip('scipy.io')


def write_sbd_mat(path: str, seg: np.ndarray) -> None:
    """An SBD ``cls/*.mat``: struct ``GTcls`` with ``Segmentation`` (uint8
    class map), ``Boundaries`` (20×1 cell of sparse maps) and
    ``CategoriesPresent``, as in the SBD release."""
    from scipy.sparse import csc_matrix
    boundaries = np.empty((20, 1), dtype=object)
    for k in range(20):
        boundaries[k, 0] = csc_matrix(seg == k + 1, dtype=bool)
    present = np.array([k for k in np.unique(seg) if k > 0], np.uint8)
    scipy_io.savemat(
        path, {
            'GTcls':
            dict(Boundaries=boundaries, Segmentation=seg.astype(np.uint8),
                 CategoriesPresent=present)
        })


def write_ids(path: str, ids) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(f'{i}\n' for i in ids))


def read_png(path: str):
    with Image.open(path) as img:
        return img.mode, np.asarray(img), img.getpalette()


@pytest.fixture
def data(tmp_path):
    """(VOCdevkit, benchmark_RELEASE, {id: expected mask})."""
    rng = np.random.default_rng(0)
    devkit = tmp_path / 'VOCdevkit'
    voc, sbd = devkit / 'VOC2012', tmp_path / 'benchmark_RELEASE' / 'dataset'
    os.makedirs(voc / 'SegmentationClass')
    os.makedirs(sbd / 'cls')
    expected = {}
    # VOC masks (with the 255 boundary band) for a and b
    for img_id in ('2007_000001', '2007_000002'):
        mask = rng.integers(0, 21, (6, 7)).astype(np.uint8)
        mask[0] = 255
        save_indexed_png(str(voc / 'SegmentationClass' / f'{img_id}.png'),
                         mask, voc_palette())
        expected[img_id] = mask
    # SBD masks: one for a VOC image (VOC must win) and two of its own
    for img_id in ('2007_000001', '2008_000003', '2008_000004'):
        seg = rng.integers(0, 21, (5, 8)).astype(np.uint8)
        write_sbd_mat(str(sbd / 'cls' / f'{img_id}.mat'), seg)
        expected.setdefault(img_id, seg)
    lists = voc / 'ImageSets' / 'Segmentation'
    write_ids(str(lists / 'train.txt'), ['2007_000001'])
    write_ids(str(lists / 'val.txt'), ['2007_000002'])
    write_ids(str(sbd / 'train.txt'), ['2008_000004', '2007_000001'])
    # SBD val holds a VOC val image: it must not enter train_aug
    write_ids(str(sbd / 'val.txt'), ['2008_000003', '2007_000002'])
    return str(devkit), str(sbd.parent), expected


def test_sbd_mat_layout_reads_like_the_release(tmp_path):
    seg = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = str(tmp_path / 'x.mat')
    write_sbd_mat(path, seg)
    gt = scipy_io.loadmat(path, struct_as_record=False,
                          squeeze_me=True)['GTcls']
    assert gt.Segmentation.dtype == np.uint8
    np.testing.assert_array_equal(gt.Segmentation, seg)
    assert gt.Boundaries.shape == (20, )
    np.testing.assert_array_equal(load_tool(
        'dataset_converters/voc_aug').load_sbd_mask(path), seg)


@pytest.mark.parametrize('nproc', [1, 2])
def test_masks_and_train_aug(data, nproc, capsys):
    devkit, sbd_root, expected = data
    tool = load_tool('dataset_converters/voc_aug')
    assert tool.main([devkit, sbd_root, '--nproc', str(nproc)]) == 0
    voc = osp.join(devkit, 'VOC2012')
    out = osp.join(voc, 'SegmentationClassAug')
    assert sorted(os.listdir(out)) == sorted(f'{i}.png' for i in expected)
    for img_id, mask in expected.items():
        mode, values, palette = read_png(osp.join(out, f'{img_id}.png'))
        assert mode == 'P'
        np.testing.assert_array_equal(values, mask, err_msg=img_id)
        assert palette[:3 * 256] == voc_palette().flatten().tolist()
    # the VOC mask won over SBD's for 2007_000001 (it has the 255 band)
    assert (read_png(osp.join(out, '2007_000001.png'))[1][0] == 255).all()
    with open(osp.join(voc, 'ImageSets', 'Segmentation',
                       'train_aug.txt')) as f:
        assert f.read().split() == [
            '2007_000001', '2008_000003', '2008_000004'
        ]


def test_resumes_and_keeps_existing_masks(data, capsys):
    devkit, sbd_root, _ = data
    tool = load_tool('dataset_converters/voc_aug')
    assert tool.main([devkit, sbd_root]) == 0
    out = osp.join(devkit, 'VOC2012', 'SegmentationClassAug')
    done = osp.join(out, '2008_000003.png')
    stamp = os.stat(done).st_mtime_ns
    os.remove(osp.join(out, '2008_000004.png'))
    written, listed = tool.convert(devkit, sbd_root)
    assert (written, listed) == (1, 3)
    assert os.stat(done).st_mtime_ns == stamp
    assert not [f for f in os.listdir(out) if f.startswith('.')]


def test_missing_mask_fails_naming_the_fix(data, capsys):
    devkit, sbd_root, _ = data
    os.remove(osp.join(sbd_root, 'dataset', 'cls', '2008_000004.mat'))
    tool = load_tool('dataset_converters/voc_aug')
    assert tool.main([devkit, sbd_root]) == 1
    err = capsys.readouterr().err
    assert '2008_000004' in err and 'incomplete' in err


def test_wrong_folders_and_files_fail_clearly(data, tmp_path, capsys):
    devkit, sbd_root, _ = data
    tool = load_tool('dataset_converters/voc_aug')
    assert tool.main([str(tmp_path / 'nowhere'), sbd_root]) == 1
    assert 'VOCdevkit/VOC2012' in capsys.readouterr().err
    assert tool.main([devkit, str(tmp_path)]) == 1
    assert 'benchmark_RELEASE' in capsys.readouterr().err
    # a .mat without GTcls (e.g. from inst/) names the file
    bad = osp.join(sbd_root, 'dataset', 'cls', '2008_000003.mat')
    scipy_io.savemat(bad, {'GTinst': dict(Segmentation=np.zeros((2, 2)))})
    assert tool.main([devkit, sbd_root]) == 1
    err = capsys.readouterr().err
    assert '2008_000003.mat' in err and 'GTcls' in err
