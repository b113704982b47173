"""tools/sam_refine.py end to end on tiny PNG + npz inputs; generation with
a tiny random SAM when segment-anything is installed."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmwsss.inference.sam_merge import merge_sam_masks
from mmwsss.utils.io import save_indexed_png
from mmwsss.utils.palette import voc_palette
from mmwsss.utils.sam_io import load_sam_masks, sam_path, save_sam_masks
from tests.conftest import REPO, load_tool, read_indexed_png
from tests.test_inference.sam_helpers import (TINY_GENERATOR_SETTINGS,
                                              tiny_checkpoint, tiny_sam)

tool = load_tool('sam_refine')
H, W = 12, 16


def make_inputs(root, n=3):
    """Pseudo-masks (custom palette) and their SAM masks: class 3 on the
    left, unknown in a corner; one mask claimed by class 3, one rejected."""
    mask_dir, sam_dir = root / 'masks', root / 'sam'
    palette = voc_palette()
    palette[3] = (1, 2, 3)
    inputs = {}
    for i in range(n):
        label = np.zeros((H, W), np.uint8)
        label[:, :6] = 3
        label[0, W - 1] = 255
        masks = np.zeros((2, H, W), bool)
        masks[0, 2:10, 0:8 + i] = True  # mostly class 3: claimed
        masks[1, 0:4, 5:W] = True  # mostly background: trims class 3
        save_indexed_png(str(mask_dir / f'img_{i}.png'), label, palette)
        save_sam_masks(sam_path(str(sam_dir), f'img_{i}'), masks)
        inputs[f'img_{i}'] = (label, masks)
    return str(mask_dir), str(sam_dir), inputs


def test_merges_keeps_the_palette_and_resumes(tmp_path):
    mask_dir, sam_dir, inputs = make_inputs(tmp_path)
    out = tmp_path / 'out'
    args = ['--mask-dir', mask_dir, '--sam-dir', sam_dir, '--out-dir',
            str(out)]
    assert tool.main(args) == 0
    assert sorted(os.listdir(out)) == [f'img_{i}.png' for i in range(3)]
    for img_id, (label, masks) in inputs.items():
        got, palette = read_indexed_png(out / f'{img_id}.png')
        np.testing.assert_array_equal(got, merge_sam_masks(label, masks))
        assert got[0, W - 1] == 255
        assert palette[3].tolist() == [1, 2, 3]  # the input's colours
        assert palette[255].tolist() == [224, 224, 192]
    got = read_indexed_png(out / 'img_0.png')[0]
    assert (got[2:10, 0:8] == 3).all() and (got[0:2, 5] == 0).all()

    # existing outputs are neither rewritten nor read
    Image.fromarray(np.full((2, 2), 9, np.uint8), mode='P').save(
        out / 'img_1.png')
    before = {f: (out / f).read_bytes() for f in os.listdir(out)}
    mtimes = {f: os.stat(out / f).st_mtime_ns for f in os.listdir(out)}
    assert tool.main(args) == 0
    assert {f: (out / f).read_bytes() for f in os.listdir(out)} == before
    assert {f: os.stat(out / f).st_mtime_ns for f in os.listdir(out)} == mtimes
    os.remove(out / 'img_2.png')
    assert tool.main(args) == 0
    np.testing.assert_array_equal(
        read_indexed_png(out / 'img_2.png')[0], merge_sam_masks(*inputs['img_2']))
    assert (out / 'img_1.png').read_bytes() == before['img_1.png']


def test_options_and_workers(tmp_path):
    mask_dir, sam_dir, inputs = make_inputs(tmp_path, n=4)
    out = tmp_path / 'out'
    assert tool.main([
        '--mask-dir', mask_dir, '--sam-dir', sam_dir, '--out-dir',
        str(out), '--keep-rejected', '--min-cover', '0.5', '--workers', '2'
    ]) == 0
    for img_id, (label, masks) in inputs.items():
        np.testing.assert_array_equal(
            read_indexed_png(out / f'{img_id}.png')[0],
            merge_sam_masks(label, masks, min_cover=0.5, keep_rejected=True))


def test_amg_folders_as_input(tmp_path):
    mask_dir, _, inputs = make_inputs(tmp_path, n=1)
    label, masks = inputs['img_0']
    amg = tmp_path / 'amg' / 'img_0'
    amg.mkdir(parents=True)
    for k, mask in enumerate(masks[::-1]):
        Image.fromarray(mask.astype(np.uint8) * 255).save(amg / f'{k}.png')
    (amg / 'metadata.csv').write_text('id\n')
    out = tmp_path / 'out'
    assert tool.main(['--mask-dir', mask_dir, '--sam-dir',
                      str(tmp_path / 'amg'), '--out-dir', str(out)]) == 0
    np.testing.assert_array_equal(read_indexed_png(out / 'img_0.png')[0],
                                  merge_sam_masks(label, masks))


def no_partial_outputs(out):
    return [f for f in os.listdir(out) if f.startswith('.')] == []


def test_errors_name_the_file(tmp_path, capsys):
    mask_dir, sam_dir, _ = make_inputs(tmp_path)
    out = tmp_path / 'out'
    args = ['--mask-dir', mask_dir, '--sam-dir', sam_dir, '--out-dir',
            str(out)]
    # a missing SAM file: refused before any output
    os.rename(sam_path(sam_dir, 'img_1'), tmp_path / 'away.npz')
    assert tool.main(args) == 1
    err = capsys.readouterr().err
    assert '1 of 3 SAM mask files missing' in err and 'img_1.npz' in err
    assert not out.exists()
    # a corrupt one: the others are written, the file is named
    (tmp_path / 'sam' / 'img_1.npz').write_bytes(b'garbage')
    assert tool.main(args) == 1
    assert 'img_1.npz' in capsys.readouterr().err
    assert not (out / 'img_1.png').exists() and no_partial_outputs(out)
    # SAM masks of another size
    save_sam_masks(sam_path(sam_dir, 'img_1'), np.zeros((1, H, W + 1), bool))
    assert tool.main(args) == 1
    err = capsys.readouterr().err
    assert 'img_1.npz' in err and 'img_1.png' in err and '(12, 17)' in err
    # a colour image instead of a pseudo-mask
    save_sam_masks(sam_path(sam_dir, 'img_1'), np.zeros((1, H, W), bool))
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(
        os.path.join(mask_dir, 'img_1.png'))
    assert tool.main(args) == 1
    err = capsys.readouterr().err
    assert 'img_1.png' in err and 'mode RGB' in err
    assert no_partial_outputs(out)
    # no pseudo-masks, no folders
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert tool.main(['--mask-dir', str(empty), '--sam-dir', sam_dir,
                      '--out-dir', str(out)]) == 1
    assert 'make_pseudo_masks.py' in capsys.readouterr().err
    assert tool.main(['--mask-dir', mask_dir, '--sam-dir',
                      str(tmp_path / 'nope'), '--out-dir', str(out)]) == 1
    assert 'SAM folder not found' in capsys.readouterr().err


@pytest.mark.parametrize('extra, message', [
    (['--min-inside', '1'], '--min-inside 1.0 is outside'),
    (['--min-cover', '0'], '--min-cover 0.0 is outside'),
    (['--sam-options', 'points_per_side=8'], '--sam-options needs'),
    (['--save-sam-dir', 'x'], '--save-sam-dir needs'),
])
def test_option_errors(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit):
        tool.main(['--mask-dir', str(tmp_path), '--sam-dir', str(tmp_path),
                   '--out-dir', str(tmp_path / 'out')] + extra)
    assert message in capsys.readouterr().err


@pytest.mark.parametrize('extra, message', [
    ([], '--sam-checkpoint needs --img-dir'),
    (['--img-dir', 'x', '--workers', '2'], '--workers applies to --sam-dir'),
    (['--img-dir', 'x', '--sam-options', 'points=8'],
     "unknown --sam-options ['points']"),
])
def test_generation_option_errors(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit):
        tool.main(['--mask-dir', str(tmp_path), '--sam-checkpoint', 'c.pth',
                   '--out-dir', str(tmp_path / 'out')] + extra)
    assert message in capsys.readouterr().err


def test_out_dir_must_not_be_the_input(tmp_path, capsys):
    with pytest.raises(SystemExit):
        tool.main(['--mask-dir', str(tmp_path), '--sam-dir', str(tmp_path),
                   '--out-dir', str(tmp_path) + os.sep])
    assert '--out-dir must differ' in capsys.readouterr().err


def test_missing_checkpoint_and_package(tmp_path, capsys, monkeypatch):
    mask_dir, _, _ = make_inputs(tmp_path, n=1)
    ckpt = tmp_path / 'sam_vit_h_4b8939.pth'
    args = ['--mask-dir', mask_dir, '--out-dir', str(tmp_path / 'out'),
            '--sam-checkpoint', str(ckpt), '--img-dir', str(tmp_path)]
    assert tool.main(args) == 1
    err = capsys.readouterr().err
    assert f'SAM checkpoint "{ckpt}" does not exist' in err
    assert 'sam_vit_h_4b8939.pth' in err
    ckpt.write_bytes(b'')
    monkeypatch.setitem(sys.modules, 'segment_anything', None)
    assert tool.main(args) == 1
    err = capsys.readouterr().err
    assert 'segment_anything package' in err
    assert 'pip install segment-anything' in err
    assert not (tmp_path / 'out').exists()


def write_images(root, ids):
    img_dir = root / 'img'
    img_dir.mkdir()
    rng = np.random.default_rng(0)
    for img_id in ids:
        Image.fromarray((rng.random((H, W, 3)) * 255).astype(np.uint8)).save(
            img_dir / f'{img_id}.png')
    return str(img_dir)


def test_generation_with_a_tiny_sam(tmp_path, capsys, monkeypatch):
    sam_pkg = pytest.importorskip('segment_anything')
    monkeypatch.setitem(sam_pkg.sam_model_registry, 'vit_b', tiny_sam)
    mask_dir, _, inputs = make_inputs(tmp_path, n=2)
    img_dir = write_images(tmp_path, inputs)
    ckpt = tiny_checkpoint(str(tmp_path / 'tiny.pth'))
    saved, out = tmp_path / 'saved', tmp_path / 'out'
    options = [f'{k}={v}' for k, v in TINY_GENERATOR_SETTINGS.items()]
    args = ['--mask-dir', mask_dir, '--out-dir', str(out),
            '--sam-checkpoint', ckpt, '--sam-model', 'vit_b', '--img-dir',
            img_dir, '--img-suffix', '.png', '--device', 'cpu',
            '--save-sam-dir', str(saved), '--sam-options'] + options
    assert tool.main(args) == 0
    for img_id, (label, _) in inputs.items():
        masks = load_sam_masks(sam_path(str(saved), img_id))
        assert masks.shape[1:] == (H, W) and len(masks)
        np.testing.assert_array_equal(read_indexed_png(out / f'{img_id}.png')[0],
                                      merge_sam_masks(label, masks))
    # the saved masks give the same result through --sam-dir
    assert tool.main(['--mask-dir', mask_dir, '--sam-dir', str(saved),
                      '--out-dir', str(tmp_path / 'again')]) == 0
    for img_id in inputs:
        assert (out / f'{img_id}.png').read_bytes() == (
            tmp_path / 'again' / f'{img_id}.png').read_bytes()
    # saved masks are reused, not generated again: no image needed
    os.remove(out / 'img_0.png')
    os.remove(os.path.join(img_dir, 'img_0.png'))
    monkeypatch.setitem(sam_pkg.sam_model_registry, 'vit_b', None)
    assert tool.main(args) == 0
    # a missing image is named before any work
    os.remove(out / 'img_0.png')
    os.remove(sam_path(str(saved), 'img_0'))
    assert tool.main(args) == 1
    err = capsys.readouterr().err
    assert '1 of 1 images missing' in err and 'img_0.png' in err


@pytest.mark.slow
def test_subprocess_reports_one_error_line(tmp_path):
    """As a command: exit 1, one ``error:`` line, no traceback."""
    mask_dir, sam_dir, _ = make_inputs(tmp_path, n=1)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    ckpt = str(tmp_path / 'missing.pth')
    proc = subprocess.run(
        [sys.executable, 'tools/sam_refine.py', '--mask-dir', mask_dir,
         '--out-dir', str(tmp_path / 'out'), '--sam-checkpoint', ckpt,
         '--img-dir', str(tmp_path)], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    (line, ) = [x for x in proc.stderr.splitlines() if 'error:' in x]
    assert ckpt in line
    proc = subprocess.run(
        [sys.executable, 'tools/sam_refine.py', '--mask-dir', mask_dir,
         '--out-dir', str(tmp_path / 'out'), '--sam-dir', sam_dir],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert os.listdir(tmp_path / 'out') == ['img_0.png']
