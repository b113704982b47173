"""tools/infer_rw.py: the random walk of stored CAMs under mmengine's Runner
(AffinityNet.predict + LoadCAMs + CAMWriter), resumable, CAM format out."""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from mmwsss.models.affinity import AffinityNet
from mmwsss.models.affinity.random_walk import (random_walk,
                                                rw_to_full_resolution,
                                                stride4_size)
from mmwsss.registry import MODELS
from mmwsss.utils.cam_io import cam_path, load_cam, save_cam
from tests.conftest import REPO, load_tool

tool = load_tool('infer_rw')
make_masks = load_tool('make_pseudo_masks')
eval_cams = load_tool('eval_cams')

AFF_CONFIG = osp.join(REPO, 'configs', 'affinity',
                      'affinitynet_tiny_synthetic.py')
PREPROCESSOR = dict(
    type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], bgr_to_rgb=True)
FALLBACK_WARNING = 'has no stride-4 CAMs'


def gradient_edges(inputs: torch.Tensor) -> torch.Tensor:
    """Max-pooled image gradient magnitude at stride 4, in [0, 1)."""
    gray = inputs.mean(1, keepdim=True)
    gy = F.pad(gray[..., 1:, :] - gray[..., :-1, :], (0, 0, 0, 1)).abs()
    gx = F.pad(gray[..., 1:] - gray[..., :-1], (0, 1)).abs()
    return torch.tanh(2 * F.max_pool2d(gy + gx, 4, 4, ceil_mode=True))


@MODELS.register_module(force=True)
class RWStandInEdges(AffinityNet):
    """AffinityNet whose boundary map is the image gradient: the walk has
    real boundaries without training."""

    def predict_edges(self, inputs, image_size=None):
        return gradient_edges(inputs)


# the tiny AffinityNet config, its model swapped for the stand-in with the
# default (reference) walk settings
STAND_IN_CONFIG = """
_base_ = [{base!r}]
model = dict(type='RWStandInEdges', pretrained=None,
             test_cfg=dict(_delete_=True))
test_dataloader = dict(num_workers=0, dataset=dict(data_root={root!r}))
"""


@pytest.fixture(scope='module')
def stand_in(synthetic_root, tmp_path_factory):
    """(config, checkpoint, CAM dir, ids) with GT-derived CAMs of the train
    split (no stride-4 maps: the walk resizes the full ones); the first
    image has no class (K=0)."""
    tmp_path = tmp_path_factory.mktemp('rw_stand_in')
    config = tmp_path / 'stand_in.py'
    config.write_text(STAND_IN_CONFIG.format(base=AFF_CONFIG,
                                             root=synthetic_root))
    init_default_scope('mmwsss')
    ckpt = tmp_path / 'stand_in.pth'
    model = MODELS.build(Config.fromfile(str(config)).model)
    torch.save({'state_dict': model.state_dict()}, ckpt)
    cam_dir = tmp_path / 'cams'
    with open(osp.join(synthetic_root,
                       'ImageSets/Segmentation/train.txt')) as f:
        ids = f.read().split()
    for n, img_id in enumerate(ids):
        with Image.open(osp.join(synthetic_root, 'SegmentationClassAug',
                                 img_id + '.png')) as img:
            gt = torch.from_numpy(np.asarray(img).astype(np.int64))
        keys = [] if n == 0 else [
            int(k) for k in gt.unique() if 0 < int(k) < 255]
        # blurred masks: strong inside, weak at the borders
        cams = torch.zeros(0, *gt.shape)
        if keys:
            masks = torch.stack([(gt == k).float() for k in keys])
            cams = F.avg_pool2d(masks[None], 7, 1, 3,
                                count_include_pad=False)[0]**2 * 0.9
        save_cam(cam_path(str(cam_dir), img_id), cams, keys)
    return str(config), str(ckpt), str(cam_dir), ids


def run(stand_in, out, *extra, cam_dir=None, work_dir=None):
    """tools/infer_rw.py on the stand-in's train split."""
    config, ckpt, cams, _ = stand_in
    work_dir = work_dir or osp.join(osp.dirname(out), 'work')
    return tool.main([config, ckpt, '--cam-dir', cam_dir or cams,
                      '--out-dir', out, '--split', 'train', '--work-dir',
                      work_dir, *extra])


def log_text(work_dir: str) -> str:
    return ''.join(open(f).read() for f in glob.glob(
        osp.join(work_dir, '*', '*.log')))


@pytest.fixture(scope='module')
def walked(stand_in, tmp_path_factory):
    """(output folder, work dir) of one tool run on the stand-in inputs
    (read-only)."""
    base = tmp_path_factory.mktemp('rw_walked')
    out, work = str(base / 'rw'), str(base / 'work')
    assert run(stand_in, out, work_dir=work) == 0
    return out, work


@torch.no_grad()
def _expected(img_id, cams, root, coarse=None, **settings):
    """The walk of one image computed directly: the algorithm functions
    over the stand-in's boundary map, from ``coarse`` or, as the fallback
    does, the full-resolution CAMs resized to stride 4."""
    with Image.open(osp.join(root, 'JPEGImages', img_id + '.jpg')) as img:
        rgb = torch.from_numpy(np.asarray(img.convert('RGB')).copy())
    init_default_scope('mmwsss')
    preprocessor = MODELS.build(PREPROCESSOR)
    inputs = rgb.permute(2, 0, 1).flip(0)  # BGR, as LoadImageFromFile
    edge = gradient_edges(preprocessor(dict(inputs=[inputs]),
                                       False)['inputs'])[0, 0]
    size = tuple(rgb.shape[:2])
    if coarse is None:
        coarse = F.interpolate(torch.from_numpy(cams)[None],
                               stride4_size(size), mode='bilinear',
                               align_corners=False)[0]
    normalize = settings.pop('normalize', 'global')
    return rw_to_full_resolution(random_walk(coarse, edge, **settings), size,
                                 normalize=normalize)


def test_walks_every_image(stand_in, walked, synthetic_root):
    _, _, cam_dir, ids = stand_in
    out, work = walked
    assert sorted(os.listdir(out)) == sorted(f'{i}.npz' for i in ids)
    empty, empty_keys = load_cam(cam_path(out, ids[0]))
    assert empty.shape[0] == 0 and empty_keys.size == 0
    for img_id in ids[1:4]:
        cams, keys = load_cam(cam_path(cam_dir, img_id))
        maps, walked_keys = load_cam(cam_path(out, img_id))
        np.testing.assert_array_equal(walked_keys, keys)
        assert maps.shape == cams.shape
        assert maps.max() == 1.0  # one global max over all classes
        expected = _expected(img_id, cams, synthetic_root).numpy()
        np.testing.assert_allclose(maps, expected, atol=0.5 / 255 + 1e-4)
        assert not np.allclose(maps, cams, atol=0.05)  # the walk did work
    # files without stride-4 maps: resized, with a single warning
    assert log_text(work).count(FALLBACK_WARNING) == 1


def test_resume(stand_in, walked, tmp_path):
    _, _, _, ids = stand_in
    out = str(tmp_path / 'rw')
    shutil.copytree(walked[0], out)
    mtimes = {f: os.stat(osp.join(out, f)).st_mtime_ns
              for f in os.listdir(out)}
    assert run(stand_in, out) == 0  # nothing to do: nothing rewritten
    assert {f: os.stat(osp.join(out, f)).st_mtime_ns
            for f in os.listdir(out)} == mtimes
    victim = cam_path(out, ids[2])
    os.remove(victim)
    assert run(stand_in, out) == 0  # only the deleted output is recomputed
    np.testing.assert_array_equal(load_cam(victim)[0],
                                  load_cam(cam_path(walked[0], ids[2]))[0])
    name = osp.basename(victim)
    assert {f: os.stat(osp.join(out, f)).st_mtime_ns
            for f in os.listdir(out) if f != name} == {
                f: t for f, t in mtimes.items() if f != name}


def test_flags_set_model_test_cfg(stand_in, synthetic_root, tmp_path):
    config, ckpt, cam_dir, ids = stand_in
    args = tool.parse_args([
        config, ckpt, '--cam-dir', cam_dir, '--out-dir', 'o', '--beta', '4',
        '--no-damp-edges', '--cfg-options', 'model.test_cfg.beta=3',
        'model.test_cfg.radius=3'])
    # flags over --cfg-options; unset flags leave the config's value
    assert args.cfg_options == {'model.test_cfg.beta': 4.0,
                                'model.test_cfg.radius': 3,
                                'model.test_cfg.damp_edges': False}
    assert tool.parse_args([config, ckpt, '--cam-dir', cam_dir,
                            '--out-dir', 'o']).cfg_options == {}

    out = str(tmp_path / 'rw_class')
    assert run(stand_in, out, '--normalize', 'class', '--exp-times', '3',
               '--cfg-options', 'model.test_cfg.radius=4') == 0
    multi = [i for i in ids[1:] if load_cam(cam_path(cam_dir, i))[0].shape[0]
             > 1]
    assert multi, 'the synthetic set has multi-class images'
    maps, _ = load_cam(cam_path(out, multi[0]))
    np.testing.assert_allclose(maps.reshape(len(maps), -1).max(1), 1.0)
    cams, _ = load_cam(cam_path(cam_dir, multi[0]))
    expected = _expected(multi[0], cams, synthetic_root, exp_times=3,
                         radius=4, normalize='class').numpy()
    np.testing.assert_allclose(maps, expected, atol=0.5 / 255 + 1e-4)


def test_walks_the_stored_stride4_cams(stand_in, walked, synthetic_root,
                                       tmp_path):
    """Files with ``cam_coarse`` (CAM format 2) are walked from those maps,
    not from the resized full-resolution ones, and warn about nothing."""
    _, _, cam_dir, ids = stand_in
    cams_v2 = str(tmp_path / 'cams')
    os.makedirs(cams_v2)
    coarse_of = {}
    for img_id in ids:
        cams, keys = load_cam(cam_path(cam_dir, img_id))
        size4 = stride4_size(cams.shape[1:])
        # deliberately unlike the resized maps: flat on the top half
        coarse = np.zeros((len(keys), *size4), np.float32)
        coarse[:, :size4[0] // 2] = 1.0
        save_cam(cam_path(cams_v2, img_id), cams, keys, coarse, 4)
        coarse_of[img_id] = coarse
    out, work = str(tmp_path / 'rw'), str(tmp_path / 'work')
    assert run(stand_in, out, cam_dir=cams_v2, work_dir=work) == 0
    img_id = ids[1]
    cams, _ = load_cam(cam_path(cam_dir, img_id))
    want = _expected(img_id, cams, synthetic_root,
                     torch.from_numpy(coarse_of[img_id])).numpy()
    got = load_cam(cam_path(out, img_id))[0]
    np.testing.assert_allclose(got, want, atol=0.5 / 255 + 1e-4)
    assert np.abs(got - load_cam(cam_path(walked[0], img_id))[0]).max() > 0.1
    assert FALLBACK_WARNING not in log_text(work)


def test_rw_output_feeds_eval_and_pseudo_masks(stand_in, walked, tmp_path):
    config, _, _, ids = stand_in
    assert eval_cams.main([config, '--cam-dir', walked[0], '--split', 'train',
                           '--threshold', '0.3']) == 0
    masks = str(tmp_path / 'masks')
    assert make_masks.main(['--cam-dir', walked[0], '--out-dir', masks,
                            '--threshold', '0.3']) == 0
    assert sorted(os.listdir(masks)) == sorted(f'{i}.png' for i in ids)
    with Image.open(osp.join(masks, ids[0] + '.png')) as img:
        assert not np.asarray(img).any()  # K=0: all background


def test_clear_errors(stand_in, tmp_path, capsys):
    config, ckpt, cam_dir, ids = stand_in
    cam_dir = str(tmp_path / 'cams')
    shutil.copytree(stand_in[2], cam_dir)
    out = str(tmp_path / 'rw')

    def error(*argv, **kwargs):
        assert run(stand_in, out, *argv, **kwargs) == 1
        return capsys.readouterr().err

    assert 'infer_cams' in error(cam_dir=str(tmp_path / 'nowhere'))
    # walk settings are checked when the model is built
    assert "unknown AffinityNet test_cfg keys ['steps']" in error(
        '--cfg-options', 'model.test_cfg.steps=3', cam_dir=cam_dir)
    assert 'model.test_cfg.normalize' in error(
        '--cfg-options', 'model.test_cfg.normalize=none', cam_dir=cam_dir)
    # a config whose test pipeline loads no CAMs (a CAM config)
    cam_cfg = osp.join(REPO, 'configs', 'cam', 'cam_tiny_synthetic.py')
    assert tool.main([cam_cfg, stand_in[1], '--cam-dir', cam_dir,
                      '--out-dir', out]) == 1
    assert 'no LoadCAMs step' in capsys.readouterr().err
    assert not osp.exists(out)
    # a CAM of another size names the file
    save_cam(cam_path(cam_dir, ids[1]), np.zeros((1, 5, 5), np.float32), [1])
    with pytest.raises(ValueError, match=ids[1]):
        run(stand_in, out, cam_dir=cam_dir)
    # a missing CAM file
    os.remove(cam_path(cam_dir, ids[1]))
    with pytest.raises(FileNotFoundError, match=ids[1]):
        run(stand_in, out, cam_dir=cam_dir)


def test_missing_checkpoint_and_old_rw_cfg(stand_in, tmp_path, capsys):
    config, _, cam_dir, _ = stand_in
    out = str(tmp_path / 'rw')
    assert tool.main([config, str(tmp_path / 'none.pth'), '--cam-dir',
                      cam_dir, '--out-dir', out]) == 1
    assert 'none.pth' in capsys.readouterr().err
    # a config of the former layout: top-level rw_cfg
    old = tmp_path / 'old.py'
    old.write_text(f'_base_ = [{config!r}]\nrw_cfg = dict(exp_times=3)\n')
    assert tool.main([str(old), stand_in[1], '--cam-dir', cam_dir,
                      '--out-dir', out]) == 1
    err = capsys.readouterr().err
    assert 'rw_cfg' in err and 'model.test_cfg' in err
    assert 'exp_times' in err and 'damp_edges' in err
    assert not osp.exists(out)


@pytest.fixture(scope='module')
def affinity_checkpoint(vanilla_run, tmp_path_factory):
    """A tiny AffinityNet (frozen backbone from the vanilla CAM checkpoint,
    edge layers at their initialisation) saved as a training checkpoint."""
    cfg = Config.fromfile(AFF_CONFIG)
    init_default_scope('mmwsss')
    cfg.model.pretrained = vanilla_run[1]
    model = MODELS.build(cfg.model)
    model.init_weights()
    path = str(tmp_path_factory.mktemp('aff') / 'affinitynet.pth')
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def test_end_to_end_with_affinitynet(synthetic_root, vanilla_run,
                                     affinity_checkpoint, tmp_path):
    """CAMs (tools/infer_cams.py) -> tools/infer_rw.py (single process and
    2 CPU processes; tools/test.py runs the same walk) ->
    tools/make_pseudo_masks.py."""
    from tests.conftest import CAM_CONFIG, data_opts, run_tool
    cams = str(tmp_path / 'cams')
    run_tool(['tools/infer_cams.py', CAM_CONFIG, vanilla_run[1], '--out-dir',
              cams, '--split', 'train', '--work-dir', str(tmp_path / 'w0'),
              *data_opts(synthetic_root)])
    ids = sorted(f[:-4] for f in os.listdir(cams))
    opts = ['--cfg-options', f'test_dataloader.dataset.data_root='
            f'{synthetic_root}', 'model.pretrained=None',
            'test_dataloader.num_workers=0']
    out = str(tmp_path / 'rw')
    assert tool.main([AFF_CONFIG, affinity_checkpoint, '--cam-dir', cams,
                      '--out-dir', out, '--split', 'train', '--work-dir',
                      str(tmp_path / 'w1'), *opts]) == 0
    assert sorted(f[:-4] for f in os.listdir(out)) == ids
    for img_id in ids:
        cam, keys = load_cam(cam_path(cams, img_id))
        walked, walked_keys = load_cam(cam_path(out, img_id))
        np.testing.assert_array_equal(walked_keys, keys)
        assert walked.shape == cam.shape
        if len(keys):  # the tiny config normalises each class (an
            # all-zero CAM of the 1-epoch model stays zero)
            assert set(walked.reshape(len(keys), -1).max(1)) <= {0.0, 1.0}
            assert walked.max() == 1.0

    # tools/test.py with the config's walk set-up: the same files (up to
    # one uint8 step: it runs in a subprocess, whose thread count can
    # differ from this process's and change the rounding before
    # quantisation)
    tested = str(tmp_path / 'rw_test')
    run_tool(['tools/test.py', AFF_CONFIG, affinity_checkpoint, '--work-dir',
              str(tmp_path / 'w2'), *opts,
              'test_dataloader.dataset.ann_file=ImageSets/Segmentation/'
              'train.txt',
              f'test_dataloader.dataset.pipeline.1.cam_dir={cams}',
              f'test_evaluator.out_dir={tested}'])
    for img_id in ids:
        np.testing.assert_allclose(load_cam(cam_path(tested, img_id))[0],
                                   load_cam(cam_path(out, img_id))[0],
                                   atol=1.01 / 255)

    # sharded over 2 CPU processes by the Runner's sampler: the same maps
    # (up to one uint8 step: other thread counts change the float rounding
    # before quantisation)
    sharded = str(tmp_path / 'rw2')
    env = dict(os.environ, PYTHON=sys.executable, PORT='29563',
               PYTHONPATH=REPO)
    proc = subprocess.run(
        ['bash', 'tools/dist_infer_rw.sh', AFF_CONFIG, affinity_checkpoint,
         '2', '--cam-dir', cams, '--out-dir', sharded, '--split', 'train',
         '--work-dir', str(tmp_path / 'w3'), *opts], cwd=REPO, env=env,
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(f[:-4] for f in os.listdir(sharded)) == ids
    for img_id in ids:
        np.testing.assert_allclose(load_cam(cam_path(sharded, img_id))[0],
                                   load_cam(cam_path(out, img_id))[0],
                                   atol=1.01 / 255)

    masks = str(tmp_path / 'masks')
    assert make_masks.main(['--cam-dir', out, '--out-dir', masks,
                            '--threshold', '0.3']) == 0
    for img_id in ids:
        keys = load_cam(cam_path(out, img_id))[1]
        with Image.open(osp.join(masks, img_id + '.png')) as img:
            values = set(np.unique(np.asarray(img)).tolist())
        assert values <= {0, *keys.tolist()}
