"""tools/make_superpixels.py: one PNG per image, for a folder (+ list) or a
config's split; resumable, atomic, on worker processes, errors naming the
file."""
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from mmwsss.utils import io as io_utils
from mmwsss.utils.io import atomic_path
from mmwsss.utils.superpixel_io import read_superpixels
from tests.conftest import CAM_CONFIG, load_tool

tool = load_tool('make_superpixels')


def make_images(folder, n=3, h=30, w=40):
    """Noisy colour images ``img_{i}.png`` (lossless, so the superpixels
    of the file are those of the array)."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    images = {}
    for i in range(n):
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        image[:, :w // 2] //= 4  # a dark half
        Image.fromarray(image).save(osp.join(folder, f'img_{i}.png'))
        images[f'img_{i}'] = image
    return images


def folder_args(img_dir, out, *extra):
    return ['--img-dir', str(img_dir), '--out-dir', str(out),
            '--img-suffix', '.png', '--min-size', '5', *extra]


def check_maps(out, images):
    assert sorted(os.listdir(out)) == sorted(f'{i}.png' for i in images)
    for img_id, image in images.items():
        sp = read_superpixels(osp.join(out, f'{img_id}.png'))
        assert sp.shape == image.shape[:2]
        ids = np.unique(sp)
        assert len(ids) <= 64
        np.testing.assert_array_equal(ids, np.arange(len(ids)))
        assert all(ndimage.label(sp == i)[1] == 1 for i in ids)


def test_writes_one_map_per_image_and_resumes(tmp_path):
    images = make_images(tmp_path / 'img')
    out = tmp_path / 'sp'
    assert tool.main(folder_args(tmp_path / 'img', out)) == 0
    check_maps(out, images)
    # an existing output is neither rewritten nor read; a missing one is
    # written
    sentinel = np.full((2, 2), 9, np.uint8)
    Image.fromarray(sentinel).save(out / 'img_1.png')
    os.remove(out / 'img_2.png')
    before = (out / 'img_0.png').read_bytes()
    mtime = os.stat(out / 'img_0.png').st_mtime_ns
    assert tool.main(folder_args(tmp_path / 'img', out)) == 0
    assert (out / 'img_0.png').read_bytes() == before
    assert os.stat(out / 'img_0.png').st_mtime_ns == mtime
    np.testing.assert_array_equal(read_superpixels(str(out / 'img_1.png')),
                                  sentinel)
    assert (out / 'img_2.png').exists()


def test_workers_and_list_give_the_same_maps(tmp_path):
    make_images(tmp_path / 'img', n=4)
    assert tool.main(folder_args(tmp_path / 'img', tmp_path / 'one')) == 0
    (tmp_path / 'ids.txt').write_text('img_3\n\nimg_0 extra words\n'
                                      '/JPEGImages/img_1.png\n')
    assert tool.main(folder_args(tmp_path / 'img', tmp_path / 'two',
                                 '--list', str(tmp_path / 'ids.txt'),
                                 '--workers', '2')) == 0
    assert sorted(os.listdir(tmp_path / 'two')) == [
        'img_0.png', 'img_1.png', 'img_3.png']
    for name in os.listdir(tmp_path / 'two'):
        assert (tmp_path / 'one' / name).read_bytes() == \
            (tmp_path / 'two' / name).read_bytes()


def test_interrupted_write_leaves_nothing_and_reruns(tmp_path, monkeypatch):
    images = make_images(tmp_path / 'img', n=2)
    out = tmp_path / 'sp'

    def interrupted(path, data):
        with atomic_path(path) as tmp:
            with open(tmp, 'wb') as f:
                f.write(data[:len(data) // 2])
            raise KeyboardInterrupt

    # the PNG writer of save_superpixels (utils.io.save_grey_png)
    monkeypatch.setattr(io_utils, 'atomic_write_bytes', interrupted)
    with pytest.raises(KeyboardInterrupt):
        tool.main(folder_args(tmp_path / 'img', out))
    assert os.listdir(out) == []  # neither a partial map nor a temp file
    monkeypatch.undo()
    assert tool.main(folder_args(tmp_path / 'img', out)) == 0
    check_maps(out, images)


@pytest.mark.parametrize('workers', ['1', '2'])
def test_unreadable_image_is_named(tmp_path, capsys, workers):
    make_images(tmp_path / 'img', n=2)
    (tmp_path / 'img' / 'broken.png').write_bytes(b'not a png')
    status = tool.main(folder_args(tmp_path / 'img', tmp_path / 'sp',
                                   '--workers', workers))
    assert status == 1
    err = capsys.readouterr().err
    assert 'error: cannot read image' in err and 'broken.png' in err
    assert not (tmp_path / 'sp' / 'broken.png').exists()


def test_missing_inputs_are_named(tmp_path, capsys):
    make_images(tmp_path / 'img', n=1)
    (tmp_path / 'ids.txt').write_text('img_0\nnope\n')
    assert tool.main(folder_args(tmp_path / 'img', tmp_path / 'sp', '--list',
                                 str(tmp_path / 'ids.txt'))) == 1
    assert 'image not found' in capsys.readouterr().err
    assert tool.main(folder_args(tmp_path / 'none', tmp_path / 'sp')) == 1
    assert 'image folder not found' in capsys.readouterr().err
    assert tool.main(folder_args(tmp_path / 'img', tmp_path / 'sp', '--list',
                                 str(tmp_path / 'no.txt'))) == 1
    assert 'no.txt' in capsys.readouterr().err
    os.makedirs(tmp_path / 'empty')
    assert tool.main(folder_args(tmp_path / 'empty', tmp_path / 'sp')) == 1
    assert 'no images' in capsys.readouterr().err


@pytest.mark.parametrize('argv', [
    ['--out-dir', 'x'],
    ['--out-dir', 'x', '--img-dir', 'a', '--config', 'c.py'],
    ['--out-dir', 'x', '--img-dir', 'a', '--split', 'train'],
    ['--out-dir', 'x', '--config', 'c.py', '--list', 'l.txt'],
    ['--out-dir', 'x', '--img-dir', 'a', '--max-regions', '256'],
    ['--out-dir', 'x', '--img-dir', 'a', '--workers', '0'],
])
def test_bad_arguments(argv):
    with pytest.raises(SystemExit):
        tool.parse_args(argv)


def test_config_split(tmp_path, synthetic_root, capsys):
    out = tmp_path / 'sp'
    args = ['--config', CAM_CONFIG, '--split', 'val', '--out-dir', str(out),
            '--cfg-options', f'test_dataloader.dataset.data_root='
            f'{synthetic_root}']
    assert tool.main(args) == 0
    with open(osp.join(synthetic_root, 'ImageSets', 'Segmentation',
                       'val.txt')) as f:
        ids = [line.split()[0] for line in f if line.strip()]
    images = {
        i: np.asarray(Image.open(
            osp.join(synthetic_root, 'JPEGImages', f'{i}.jpg')))
        for i in ids
    }
    check_maps(out, images)
    assert tool.main(args + ['--split', 'nosuch']) == 1
    assert 'unknown split' in capsys.readouterr().err
