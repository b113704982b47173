"""tools/dataset_converters/coco.py on a tiny instances JSON written here:
the 80 real categories (ids 1..90 with gaps), polygons, compressed and
uncompressed RLE, crowd regions and overlapping instances."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmwsss.datasets.coco import COCO14_CLASSES
from tests.conftest import load_tool

mask_utils = pytest.importorskip('pycocotools.mask')

# the official COCO category ids of the 80 classes, in order
COCO_IDS = [i for i in range(1, 91)
            if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
PERSON, DOG, TOOTHBRUSH = 1, 18, 90  # -> mask classes 1, 17, 80


def categories():
    return [dict(id=cid, name=name, supercategory='x')
            for cid, name in zip(COCO_IDS, COCO14_CLASSES[1:])]


def rect_polygon(x0, y0, x1, y1):
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def compressed_rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return dict(size=rle['size'], counts=rle['counts'].decode('ascii'))


def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's crowd format: run lengths over the column-major pixels,
    starting with a run of zeros."""
    flat = mask.flatten(order='F').astype(np.uint8)
    counts, value, run = [], 0, 0
    for pixel in flat:
        if pixel != value:
            counts.append(run)
            value, run = pixel, 0
        run += 1
    counts.append(run)
    return dict(size=list(mask.shape), counts=counts)


def box(h, w, y0, y1, x0, x1):
    mask = np.zeros((h, w), bool)
    mask[y0:y1, x0:x1] = True
    return mask


@pytest.fixture
def coco_root(tmp_path):
    """COCO root with instances_{train,val}2014.json."""
    h, w = 20, 30
    dog = box(h, w, 6, 10, 6, 10)
    crowd = box(h, w, 12, 20, 0, 30)
    person_in_crowd = box(h, w, 14, 17, 20, 25)
    brush = box(16, 16, 3, 5, 2, 14)
    train = dict(
        images=[
            dict(id=9, height=h, width=w, file_name='a.jpg'),
            dict(id=25, height=16, width=16, file_name='b.jpg'),
            dict(id=3, height=8, width=8, file_name='c.jpg'),  # no objects
        ],
        categories=categories(),
        annotations=[
            # the small dog first in the file: it must still end on top of
            # the larger person polygon
            dict(id=1, image_id=9, category_id=DOG, iscrowd=0,
                 area=float(dog.sum()), segmentation=compressed_rle(dog)),
            dict(id=2, image_id=9, category_id=PERSON, iscrowd=0,
                 area=100.0, segmentation=rect_polygon(2, 2, 14, 11)),
            dict(id=3, image_id=9, category_id=PERSON, iscrowd=0,
                 area=float(person_in_crowd.sum()),
                 segmentation=compressed_rle(person_in_crowd)),
            dict(id=4, image_id=9, category_id=PERSON, iscrowd=1,
                 area=float(crowd.sum()),
                 segmentation=uncompressed_rle(crowd)),
            dict(id=5, image_id=25, category_id=TOOTHBRUSH, iscrowd=0,
                 area=float(brush.sum()), segmentation=compressed_rle(brush)),
        ])
    val = dict(
        images=[dict(id=7, height=4, width=5, file_name='d.jpg')],
        categories=categories(),
        annotations=[
            dict(id=6, image_id=7, category_id=DOG, iscrowd=0, area=6.0,
                 segmentation=compressed_rle(box(4, 5, 0, 2, 0, 3)))
        ])
    os.makedirs(tmp_path / 'annotations')
    for split, data in (('train2014', train), ('val2014', val)):
        with open(tmp_path / 'annotations' / f'instances_{split}.json',
                  'w') as f:
            json.dump(data, f)
    return str(tmp_path)


def read_png(path: str) -> np.ndarray:
    with Image.open(path) as img:
        assert img.mode == 'P'
        return np.asarray(img)


@pytest.mark.parametrize('nproc', [1, 2])
def test_masks_and_lists(coco_root, nproc, capsys):
    tool = load_tool('dataset_converters/coco')
    assert tool.main([coco_root, '--nproc', str(nproc)]) == 0
    out = osp.join(coco_root, 'coco_seg_anno')
    assert sorted(os.listdir(out)) == [
        f'{i:012d}.png' for i in (3, 7, 9, 25)
    ]
    with open(osp.join(coco_root, 'train2014.txt')) as f:
        assert f.read().split() == ['000000000003', '000000000009',
                                    '000000000025']
    with open(osp.join(coco_root, 'val2014.txt')) as f:
        assert f.read().split() == ['000000000007']

    a = read_png(osp.join(out, '000000000009.png'))
    assert a.shape == (20, 30)
    # the person polygon (class 1) with the smaller dog (class 17) on top
    assert (a[3:10, 3:6] == 1).all() and (a[6:10, 6:10] == 17).all()
    # the crowd region is ignored, the person inside it keeps its class
    assert (a[12:14] == 255).all() and (a[18:] == 255).all()
    assert (a[14:17, 20:25] == 1).all() and (a[14:17, :20] == 255).all()
    assert (a[:, 16:][:12] == 0).all()  # background
    assert set(np.unique(a)) == {0, 1, 17, 255}

    b = read_png(osp.join(out, '000000000025.png'))
    np.testing.assert_array_equal(b, 80 * box(16, 16, 3, 5, 2, 14))
    assert (read_png(osp.join(out, '000000000003.png')) == 0).all()
    np.testing.assert_array_equal(
        read_png(osp.join(out, '000000000007.png')),
        17 * box(4, 5, 0, 2, 0, 3))


def test_crowd_as_class_and_dataset_reads_the_output(coco_root, capsys):
    tool = load_tool('dataset_converters/coco')
    assert tool.main([coco_root, '--crowd', 'class', '--splits',
                      'train2014']) == 0
    a = read_png(osp.join(coco_root, 'coco_seg_anno', '000000000009.png'))
    assert (a[12:] == 1).all()
    # the COCO segmentation data set finds the masks by its own naming
    from mmwsss.datasets import COCO14SegDataset
    ds = COCO14SegDataset(
        data_root=coco_root, ann_file='train2014.txt',
        data_prefix=dict(img_path='train2014', seg_map_path='coco_seg_anno'),
        lazy_init=False)
    paths = [ds.get_data_info(i)['seg_map_path'] for i in range(len(ds))]
    assert len(paths) == 3 and all(osp.isfile(p) for p in paths)


def test_resumes(coco_root, capsys):
    tool = load_tool('dataset_converters/coco')
    out = osp.join(coco_root, 'coco_seg_anno')
    assert tool.main([coco_root]) == 0
    keep = osp.join(out, '000000000009.png')
    stamp = os.stat(keep).st_mtime_ns
    os.remove(osp.join(out, '000000000025.png'))
    written, listed = tool.convert_split(coco_root, 'train2014', out,
                                         'ignore')
    assert (written, listed) == (1, 3)
    assert os.stat(keep).st_mtime_ns == stamp


def test_bad_inputs_fail_clearly(coco_root, tmp_path, capsys):
    tool = load_tool('dataset_converters/coco')
    assert tool.main([str(tmp_path / 'nowhere')]) == 1
    assert 'annotations_trainval2014.zip' in capsys.readouterr().err
    path = osp.join(coco_root, 'annotations', 'instances_val2014.json')
    with open(path) as f:
        data = json.load(f)
    data['categories'] = data['categories'][:20]  # a subset: refused
    with open(path, 'w') as f:
        json.dump(data, f)
    assert tool.main([coco_root, '--splits', 'val2014']) == 1
    err = capsys.readouterr().err
    assert 'instances_val2014.json' in err and '80 COCO' in err
