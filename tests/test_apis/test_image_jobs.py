"""The per-image job pieces shared by the post-processing tools: errors
name the image, the pool gives the results of the serial loop, images must
match their map's size, ids come from file names."""
import numpy as np
import pytest
from PIL import Image

from mmwsss.apis.image_jobs import (ImageJob, list_ids, load_matching_image,
                                    run_jobs)
from mmwsss.utils.io import sample_id
from mmwsss.utils.palette import palette_over_voc, voc_palette


class Square(ImageJob):
    """Squares an int id; fails on 3 (ValueError) and 4 (passthrough)."""

    def run(self, item):
        if item == 3:
            raise ValueError('bad three')
        if item == 4:
            raise FileNotFoundError('four.npz')
        return item * item


def test_errors_name_the_item_unless_passed_through():
    job = Square()
    assert job(5) == 25
    with pytest.raises(RuntimeError, match=r'^3: ValueError: bad three$'):
        job(3)
    with pytest.raises(FileNotFoundError, match='^four.npz$'):
        job(4)
    # tuple items: named by their first element
    assert ImageJob.item_id(('img_7', 'x.jpg')) == 'img_7'


@pytest.mark.parametrize('workers', [1, 2])
def test_run_jobs_gives_every_result(workers):
    assert run_jobs(Square(), [5, 0, 2, 1, 6], workers, 'sq',
                    chunksize=1) == [25, 0, 4, 1, 36]  # in input order
    with pytest.raises(RuntimeError, match='3: ValueError'):
        run_jobs(Square(), [1, 3, 2], workers, 'sq', chunksize=1)


def test_list_ids_strips_the_suffix_and_sorts(tmp_path):
    for name in ('b.npz', 'a.npz', 'c.png', 'x[1].npz'):
        (tmp_path / name).write_text('')
    assert list_ids(str(tmp_path), '.npz') == ['a', 'b', 'x[1]']
    assert list_ids(str(tmp_path / 'none'), '.npz') == []


def test_load_matching_image(tmp_path):
    path = tmp_path / 'im.png'
    Image.fromarray(np.full((4, 6, 3), 9, np.uint8)).save(path)
    assert load_matching_image(str(path), (4, 6), 'CAM').shape == (4, 6, 3)
    with pytest.raises(ValueError, match=r'im.png: image size \(4, 6\) != '
                       r'CAM size \(6, 4\)'):
        load_matching_image(str(path), (6, 4), 'CAM')
    with pytest.raises(FileNotFoundError,
                       match='image not found: .*no.png .check --img-dir'):
        load_matching_image(str(tmp_path / 'no.png'), (4, 6), 'CAM')
    (tmp_path / 'bad.png').write_bytes(b'not a png')
    with pytest.raises(OSError, match='cannot read image .*bad.png'):
        load_matching_image(str(tmp_path / 'bad.png'), (4, 6), 'CAM')


def test_palette_over_voc_keeps_the_ignore_colour():
    voc = voc_palette()
    assert np.array_equal(palette_over_voc(None), voc)
    pal = palette_over_voc([[1, 2, 3], [4, 5, 6]])
    assert pal[:2].tolist() == [[1, 2, 3], [4, 5, 6]]
    assert np.array_equal(pal[2:], voc[2:])
    full = palette_over_voc(np.ones((256, 3), np.uint8))
    assert (full[:255] == 1).all() and full[255].tolist() == voc[255].tolist()


def test_sample_id():
    assert sample_id(dict(img_id='000000000009', img_path='x/a.jpg')) == \
        '000000000009'
    assert sample_id(dict(img_path='x/2007_000032.jpg')) == '2007_000032'
    assert sample_id(dict(img_id=None, img_path='y/b.c.png')) == 'b.c'


def test_load_label_reads_ids_and_names_bad_files(tmp_path):
    from mmwsss.utils.io import load_label
    ids = np.array([[0, 1], [255, 3]], np.uint8)
    Image.fromarray(ids).save(tmp_path / 'm.png')  # grey PNG of ids
    np.testing.assert_array_equal(load_label(str(tmp_path / 'm.png')), ids)
    (tmp_path / 'bad.png').write_bytes(b'nope')
    with pytest.raises(OSError, match='cannot read mask .*bad.png'):
        load_label(str(tmp_path / 'bad.png'), 'mask')
    with pytest.raises(OSError, match='cannot read GT mask .*none.png'):
        load_label(str(tmp_path / 'none.png'))
