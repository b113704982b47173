import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmwsss.utils.cam_io import cam_path, save_cam
from tests.conftest import CAM_CONFIG, load_tool, read_indexed_png
from tests.test_datasets.builders import make_voc

tool = load_tool('make_pseudo_masks')


def make_inputs(root, n=3, h=12, w=16):
    """CAM files (+ images) whose 0.3-threshold masks are known."""
    cam_dir, img_dir = root / 'cams', root / 'img'
    img_dir.mkdir(parents=True)
    expected = {}
    for i in range(n):
        img_id = f'img_{i}'
        cams = np.zeros((2, h, w), np.float32)
        cams[0, :, :w // 2] = 0.8  # class 3 on the left half
        cams[1, :h // 2, w // 2:] = 0.6  # class 5 top right
        cams[1, h // 2:, w // 2:] = 0.2  # below the threshold: background
        save_cam(cam_path(str(cam_dir), img_id), cams, [3, 5])
        mask = np.zeros((h, w), np.uint8)
        mask[:, :w // 2] = 3
        mask[:h // 2, w // 2:] = 5
        expected[img_id] = mask
        image = np.zeros((h, w, 3), np.uint8)
        image[:, :w // 2] = (250, 10, 10)
        image[:h // 2, w // 2:] = (10, 250, 10)
        Image.fromarray(image).save(img_dir / f'{img_id}.png')
    return str(cam_dir), str(img_dir), expected


def test_writes_palette_pngs_and_resumes(tmp_path):
    cam_dir, _, expected = make_inputs(tmp_path)
    out = tmp_path / 'masks'
    args = ['--cam-dir', cam_dir, '--out-dir', str(out), '--threshold', '0.3']
    assert tool.main(args) == 0
    assert sorted(os.listdir(out)) == [f'img_{i}.png' for i in range(3)]
    for img_id, mask in expected.items():
        got, palette = read_indexed_png(out / f'{img_id}.png')
        np.testing.assert_array_equal(got, mask)
        assert palette[3].tolist() == [128, 128, 0]  # VOC colour of class 3
        assert palette[255].tolist() == [224, 224, 192]

    # a pre-existing output is neither rewritten nor corrupted
    sentinel = np.full((2, 2), 9, np.uint8)
    Image.fromarray(sentinel, mode='P').save(out / 'img_1.png')
    before = {f: (out / f).read_bytes() for f in os.listdir(out)}
    mtimes = {f: os.stat(out / f).st_mtime_ns for f in os.listdir(out)}
    assert tool.main(args) == 0
    assert {f: (out / f).read_bytes() for f in os.listdir(out)} == before
    assert {f: os.stat(out / f).st_mtime_ns for f in os.listdir(out)} == mtimes

    # removing one output: only that one is redone
    os.remove(out / 'img_2.png')
    assert tool.main(args) == 0
    np.testing.assert_array_equal(read_indexed_png(out / 'img_2.png')[0],
                                  expected['img_2'])
    assert (out / 'img_1.png').read_bytes() == before['img_1.png']


def test_crf_with_workers(tmp_path):
    pytest.importorskip('pydensecrf.densecrf')
    cam_dir, img_dir, expected = make_inputs(tmp_path, n=4)
    out = tmp_path / 'masks'
    assert tool.main([
        '--cam-dir', cam_dir, '--out-dir', str(out), '--threshold', '0.3',
        '--crf', '--img-dir', img_dir, '--img-suffix', '.png', '--workers',
        '2'
    ]) == 0
    for img_id, mask in expected.items():
        got = read_indexed_png(out / f'{img_id}.png')[0]
        assert (got == mask).mean() > 0.95


def test_errors_name_the_file(tmp_path, capsys):
    cam_dir, img_dir, _ = make_inputs(tmp_path)
    bad = cam_path(cam_dir, 'img_1')
    with open(bad, 'wb') as f:
        f.write(b'garbage')
    out = tmp_path / 'masks'
    args = ['--cam-dir', cam_dir, '--out-dir', str(out), '--threshold', '0.3']
    assert tool.main(args) == 1
    assert 'img_1.npz' in capsys.readouterr().err
    assert not (out / 'img_1.png').exists()
    os.remove(bad)
    # missing image with --crf
    assert tool.main(args + ['--crf', '--img-dir', img_dir]) == 1
    err = capsys.readouterr().err
    # img_0 is done already; img_2 is the one needing its image
    assert 'image not found' in err and 'img_2.jpg' in err
    # empty CAM folder
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert tool.main(['--cam-dir', str(empty), '--out-dir', str(out),
                      '--threshold', '0.3']) == 1
    assert 'infer_cams.py' in capsys.readouterr().err


def test_metainfo_from_config(tmp_path):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "train_dataloader = dict(dataset=dict(type='BaseSegDataset', "
        "metainfo=dict(classes=('bg', 'a'), "
        "palette=[[1, 2, 3], [4, 5, 6]])))\n")
    classes, palette = tool.metainfo_from_config(str(cfg))
    assert tuple(classes) == ('bg', 'a')
    assert palette[:2].tolist() == [[1, 2, 3], [4, 5, 6]]
    assert palette[255].tolist() == [224, 224, 192]


@pytest.mark.parametrize('threshold', ['-0.1', '1.5', 'nan'])
def test_threshold_outside_0_1_is_refused(tmp_path, capsys, threshold):
    with pytest.raises(SystemExit):
        tool.main(['--cam-dir', str(tmp_path), '--out-dir',
                   str(tmp_path / 'out'), '--threshold', threshold])
    assert 'outside [0, 1]' in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


def test_cam_class_outside_the_config_is_refused(tmp_path, capsys):
    """A CAM key the config's classes lack (the synthetic set has ids 1..6)
    would be written into the PNG and fail the segmentor later."""
    cam_dir, out = str(tmp_path / 'cams'), tmp_path / 'masks'
    cams = np.full((1, 4, 5), 0.9, np.float32)
    save_cam(cam_path(cam_dir, 'a'), cams, [2])
    save_cam(cam_path(cam_dir, 'b'), cams, [37])
    args = ['--cam-dir', cam_dir, '--out-dir', str(out), '--threshold',
            '0.3']
    assert tool.main(args + ['--config', CAM_CONFIG]) == 1
    err = capsys.readouterr().err
    assert cam_path(cam_dir, 'b') in err
    assert 'class id 37 is not a class of' in err and '1..6' in err
    assert not (out / 'b.png').exists()
    # without a config the VOC-style range 1..254 applies
    assert tool.main(args) == 0


def test_split_gets_a_mask_for_every_image(tmp_path, capsys):
    """Background-only images have no CAM file (inference skips them as
    training does), but the segmentor trains on the split's whole list:
    each gets an all-background mask; a foreground image without CAMs is an
    error."""
    root = make_voc(str(tmp_path / 'voc'), {'a': [1, 2], 'b': [3], 'c': []})
    cam_dir, out = str(tmp_path / 'cams'), tmp_path / 'masks'
    for img_id, keys in (('a', [1, 2]), ('b', [3])):
        save_cam(cam_path(cam_dir, img_id),
                 np.full((len(keys), 40, 48), 0.9, np.float32), keys)
    args = ['--cam-dir', cam_dir, '--out-dir', str(out), '--threshold',
            '0.3', '--config', CAM_CONFIG, '--split', 'train_aug',
            '--cfg-options', f'test_dataloader.dataset.data_root={root}']
    assert tool.main(args) == 0
    assert sorted(os.listdir(out)) == ['a.png', 'b.png', 'c.png']
    background, _ = read_indexed_png(out / 'c.png')
    assert background.shape == (40, 48) and not background.any()
    assert read_indexed_png(out / 'a.png')[0].max() == 1
    capsys.readouterr()

    os.remove(cam_path(cam_dir, 'b'))
    os.remove(out / 'b.png')
    assert tool.main(args) == 1
    err = capsys.readouterr().err
    assert '1 of 2 CAM files missing' in err
    assert osp.join(cam_dir, 'b.npz') in err and 'infer_cams.py' in err
    assert not (out / 'b.png').exists()
