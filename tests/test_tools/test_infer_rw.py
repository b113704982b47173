"""tools/infer_rw.py: random walk of stored CAMs, resumable, CAM format out."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from PIL import Image

from mmwsss.inference.cam_io import cam_path, load_cam, save_cam
from mmwsss.models.affinity.random_walk import (random_walk,
                                                rw_to_full_resolution,
                                                stride4_size)
from mmwsss.registry import MODELS
from tests.conftest import REPO, load_tool

tool = load_tool('infer_rw')
make_masks = load_tool('make_pseudo_masks')
eval_cams = load_tool('eval_cams')

PREPROCESSOR = dict(
    type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], bgr_to_rgb=True)


@MODELS.register_module(force=True)
class RWStandInEdges(BaseModel):
    """Stand-in boundary model: max-pooled image gradient magnitude."""

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.scale = torch.nn.Parameter(torch.tensor(2.0))

    def predict_edges(self, inputs):
        gray = inputs.mean(1, keepdim=True)
        gy = F.pad(gray[..., 1:, :] - gray[..., :-1, :], (0, 0, 0, 1)).abs()
        gx = F.pad(gray[..., 1:] - gray[..., :-1], (0, 1)).abs()
        grad = F.max_pool2d(gy + gx, 4, 4, ceil_mode=True)
        return torch.tanh(self.scale * grad)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.predict_edges(inputs)


STAND_IN_CONFIG = """
_base_ = [{base!r}]
default_scope = 'mmwsss'
model = dict(type='RWStandInEdges', data_preprocessor={pre!r})
test_dataloader = dict(dataset=dict(data_root={root!r}))
"""


@pytest.fixture(scope='module')
def stand_in(synthetic_root, tmp_path_factory):
    """(config, checkpoint, CAM dir, ids) with GT-derived CAMs of the train
    split; the first image has no class (K=0)."""
    tmp_path = tmp_path_factory.mktemp('rw_stand_in')
    config = tmp_path / 'stand_in.py'
    config.write_text(STAND_IN_CONFIG.format(
        base=osp.join(REPO, 'configs/_base_/datasets/synthetic_cls.py'),
        pre=PREPROCESSOR, root=synthetic_root))
    ckpt = tmp_path / 'stand_in.pth'
    torch.save({'state_dict': RWStandInEdges().state_dict()}, ckpt)
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


@pytest.fixture(scope='module')
def walked(stand_in, tmp_path_factory):
    """Output folder of one tool run on the stand-in inputs (read-only)."""
    config, ckpt, cam_dir, _ = stand_in
    out = str(tmp_path_factory.mktemp('rw_walked') / 'rw')
    assert tool.main([config, ckpt, '--cam-dir', cam_dir, '--out-dir', out,
                      '--split', 'train', '--device', 'cpu']) == 0
    return out


@torch.no_grad()
def _expected(img_id, cams, root):
    """The walk of one image computed directly with the stand-in model."""
    with Image.open(osp.join(root, 'JPEGImages', img_id + '.jpg')) as img:
        rgb = torch.from_numpy(np.asarray(img.convert('RGB')).copy())
    model = MODELS.build(dict(type='RWStandInEdges',
                              data_preprocessor=PREPROCESSOR))
    inputs = rgb.permute(2, 0, 1).flip(0)  # BGR, as LoadImageFromFile
    data = model.data_preprocessor(dict(inputs=[inputs]), False)
    edge = model.predict_edges(data['inputs'])[0, 0]
    size = tuple(rgb.shape[:2])
    cams4 = F.interpolate(torch.from_numpy(cams)[None], stride4_size(size),
                          mode='bilinear', align_corners=False)[0]
    return rw_to_full_resolution(random_walk(cams4, edge), size)


def test_walks_every_image(stand_in, walked, synthetic_root):
    _, _, cam_dir, ids = stand_in
    assert sorted(os.listdir(walked)) == sorted(f'{i}.npz' for i in ids)
    empty, empty_keys = load_cam(cam_path(walked, ids[0]))
    assert empty.shape[0] == 0 and empty_keys.size == 0
    for img_id in ids[1:4]:
        cams, keys = load_cam(cam_path(cam_dir, img_id))
        maps, walked_keys = load_cam(cam_path(walked, img_id))
        np.testing.assert_array_equal(walked_keys, keys)
        assert maps.shape == cams.shape
        assert maps.max() == 1.0  # one global max over all classes
        expected = _expected(img_id, cams, synthetic_root).numpy()
        np.testing.assert_allclose(maps, expected, atol=0.5 / 255 + 1e-4)
        assert not np.allclose(maps, cams, atol=0.05)  # the walk did work


def test_resume(stand_in, walked, tmp_path):
    config, ckpt, cam_dir, ids = stand_in
    out = str(tmp_path / 'rw')
    shutil.copytree(walked, out)
    args = [config, ckpt, '--cam-dir', cam_dir, '--out-dir', out,
            '--split', 'train', '--device', 'cpu']
    mtimes = {f: os.stat(osp.join(out, f)).st_mtime_ns
              for f in os.listdir(out)}
    assert tool.main(args) == 0  # nothing to do: nothing rewritten
    assert {f: os.stat(osp.join(out, f)).st_mtime_ns
            for f in os.listdir(out)} == mtimes
    victim = cam_path(out, ids[2])
    os.remove(victim)
    assert tool.main(args) == 0  # only the deleted output is recomputed
    np.testing.assert_array_equal(load_cam(victim)[0],
                                  load_cam(cam_path(walked, ids[2]))[0])
    name = osp.basename(victim)
    assert {f: os.stat(osp.join(out, f)).st_mtime_ns
            for f in os.listdir(out) if f != name} == {
                f: t for f, t in mtimes.items() if f != name}


def test_ranks_take_interleaved_shares(stand_in, walked, tmp_path,
                                       monkeypatch):
    config, ckpt, cam_dir, ids = stand_in
    out = str(tmp_path / 'rw')
    args = [config, ckpt, '--cam-dir', cam_dir, '--out-dir', out,
            '--split', 'train', '--device', 'cpu']
    monkeypatch.setattr(tool, 'get_dist_info', lambda: (1, 3))
    assert tool.main(args) == 0
    assert sorted(os.listdir(out)) == sorted(f'{i}.npz' for i in ids[1::3])
    for rank in (0, 2):
        monkeypatch.setattr(tool, 'get_dist_info', lambda r=rank: (r, 3))
        assert tool.main(args) == 0
    assert sorted(os.listdir(out)) == sorted(os.listdir(walked))
    for img_id in ids:
        np.testing.assert_array_equal(load_cam(cam_path(out, img_id))[0],
                                      load_cam(cam_path(walked, img_id))[0])


def test_settings_and_per_class_normalisation(stand_in, tmp_path):
    config, ckpt, cam_dir, ids = stand_in
    out = str(tmp_path / 'rw_class')
    assert tool.main([config, ckpt, '--cam-dir', cam_dir, '--out-dir', out,
                      '--split', 'train', '--device', 'cpu', '--normalize',
                      'class', '--exp-times', '3', '--cfg-options',
                      'rw_cfg.radius=4']) == 0
    multi = [i for i in ids[1:] if load_cam(cam_path(cam_dir, i))[0].shape[0]
             > 1]
    assert multi, 'the synthetic set has multi-class images'
    walked, _ = load_cam(cam_path(out, multi[0]))
    np.testing.assert_allclose(walked.reshape(len(walked), -1).max(1), 1.0)

    args = tool.parse_args([config, ckpt, '--cam-dir', cam_dir,
                            '--out-dir', out, '--beta', '4'])
    from mmengine.config import Config
    settings = tool.walk_settings(args, Config(dict(rw_cfg=dict(
        radius=3, method='dense'))))
    assert settings == dict(beta=4.0, exp_times=8, radius=3, method='dense',
                            normalize='global', damp_edges=True)
    # --no-damp-edges over rw_cfg.damp_edges over the default (True)
    undamped = tool.parse_args([config, ckpt, '--cam-dir', cam_dir,
                                '--out-dir', out, '--no-damp-edges'])
    assert tool.walk_settings(undamped, Config(dict(rw_cfg=dict(
        damp_edges=True))))['damp_edges'] is False
    assert tool.walk_settings(args, Config(dict(rw_cfg=dict(
        damp_edges=False))))['damp_edges'] is False
    with pytest.raises(KeyError, match='rw_cfg'):
        tool.walk_settings(args, Config(dict(rw_cfg=dict(steps=3))))
    with pytest.raises(ValueError, match='normalize'):
        tool.walk_settings(args, Config(dict(rw_cfg=dict(normalize='none'))))


def test_rw_output_feeds_eval_and_pseudo_masks(stand_in, walked, tmp_path):
    config, _, _, ids = stand_in
    assert eval_cams.main([config, '--cam-dir', walked, '--split', 'train',
                           '--threshold', '0.3']) == 0
    masks = str(tmp_path / 'masks')
    assert make_masks.main(['--cam-dir', walked, '--out-dir', masks,
                            '--threshold', '0.3']) == 0
    assert sorted(os.listdir(masks)) == sorted(f'{i}.png' for i in ids)
    with Image.open(osp.join(masks, ids[0] + '.png')) as img:
        assert not np.asarray(img).any()  # K=0: all background


def test_clear_errors(stand_in, tmp_path):
    from mmengine.config import Config
    config, ckpt, cam_dir, ids = stand_in
    cam_dir = str(tmp_path / 'cams')
    shutil.copytree(stand_in[2], cam_dir)
    base = [config, ckpt, '--out-dir', str(tmp_path / 'rw'), '--split',
            'train', '--device', 'cpu']
    with pytest.raises(FileNotFoundError, match='infer_cams'):
        tool.main(base + ['--cam-dir', str(tmp_path / 'nowhere')])
    with pytest.raises(FileNotFoundError, match='checkpoint'):
        tool.main([config, str(tmp_path / 'none.pth')] + base[2:]
                  + ['--cam-dir', cam_dir])
    # a CAM of another size names the file
    save_cam(cam_path(cam_dir, ids[1]), np.zeros((1, 5, 5), np.float32), [1])
    with pytest.raises(ValueError, match=ids[1]):
        tool.main(base + ['--cam-dir', cam_dir])
    # a model without predict_edges
    with pytest.raises(TypeError, match='predict_edges'):
        tool.build_model(Config(dict(model=dict(
            type='SegDataPreProcessor'))), ckpt, torch.device('cpu'))
    # a missing CAM file
    os.remove(cam_path(cam_dir, ids[1]))
    with pytest.raises(FileNotFoundError, match=ids[1]):
        tool.main(base + ['--cam-dir', cam_dir])


AFF_CONFIG = osp.join(REPO, 'configs', 'affinity',
                      'affinitynet_tiny_synthetic.py')


@pytest.fixture(scope='module')
def affinity_checkpoint(vanilla_run, tmp_path_factory):
    """A tiny AffinityNet (frozen backbone from the vanilla CAM checkpoint,
    edge layers at their initialisation) saved as a training checkpoint."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
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
    2 CPU processes) -> tools/make_pseudo_masks.py."""
    from tests.conftest import CAM_CONFIG, data_opts, run_tool
    cams = str(tmp_path / 'cams')
    run_tool(['tools/infer_cams.py', CAM_CONFIG, vanilla_run[1], '--out-dir',
              cams, '--split', 'train', *data_opts(synthetic_root)])
    ids = sorted(f[:-4] for f in os.listdir(cams))
    opts = ['--cfg-options', f'test_dataloader.dataset.data_root='
            f'{synthetic_root}', 'model.pretrained=None']
    out = str(tmp_path / 'rw')
    assert tool.main([AFF_CONFIG, affinity_checkpoint, '--cam-dir', cams,
                      '--out-dir', out, '--split', 'train', '--device', 'cpu',
                      *opts]) == 0
    assert sorted(f[:-4] for f in os.listdir(out)) == ids
    for img_id in ids:
        cam, keys = load_cam(cam_path(cams, img_id))
        walked, walked_keys = load_cam(cam_path(out, img_id))
        np.testing.assert_array_equal(walked_keys, keys)
        assert walked.shape == cam.shape
        if len(keys):
            assert walked.max() == 1.0

    # sharded over 2 CPU processes: the same maps (up to one uint8 step:
    # other thread counts change the float rounding before quantisation)
    sharded = str(tmp_path / 'rw2')
    env = dict(os.environ, PYTHON=sys.executable, PORT='29563')
    proc = subprocess.run(
        ['bash', 'tools/dist_infer_rw.sh', AFF_CONFIG, affinity_checkpoint,
         '2', '--cam-dir', cams, '--out-dir', sharded, '--split', 'train',
         '--device', 'cpu', *opts], cwd=REPO, env=env, capture_output=True,
        text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    half = (len(ids) + 1) // 2
    assert f'rank 0/2: 0 of {half} images' in log
    assert f'rank 1/2: 0 of {len(ids) - half} images' in log
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


def test_walks_the_stored_stride4_cams(stand_in, synthetic_root, capsys):
    """Files with ``cam_coarse`` (CAM format 2) are walked from those maps,
    not from the resized full-resolution ones (which only the fallback for
    version-1 files uses, with one warning)."""
    from mmengine.registry import init_default_scope

    from mmwsss.inference.cam_io import CAMData
    from mmwsss.registry import DATASETS
    from mmwsss.utils.tool_utils import load_config, select_split
    config, ckpt, cam_dir, ids = stand_in
    cfg = load_config(config, None)
    select_split(cfg, 'train')
    init_default_scope('mmwsss')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    walker = tool.RandomWalker(
        tool.build_model(cfg, ckpt, torch.device('cpu')), torch.device('cpu'),
        dict(tool.RW_DEFAULTS))
    index = 1
    img_id = ids[index]
    cams, keys = load_cam(cam_path(cam_dir, img_id))
    size4 = stride4_size(cams.shape[1:])
    # deliberately unlike the resized maps: flat on the top half
    coarse = np.zeros((len(keys), *size4), np.float32)
    coarse[:, :size4[0] // 2] = 1.0
    got = walker(dataset[index], CAMData(cams, keys, coarse, 4), 'f.npz')
    sample = dataset[index]
    data = walker.model.data_preprocessor(
        dict(inputs=[sample['inputs']],
             data_samples=[sample['data_samples']]), False)
    edge = walker.model.predict_edges(data['inputs'])[0, 0]
    want = rw_to_full_resolution(
        random_walk(torch.from_numpy(coarse), edge[:size4[0], :size4[1]]),
        cams.shape[1:])
    torch.testing.assert_close(got, want)
    assert 'warning' not in capsys.readouterr().out
    # no coarse maps (format 1): the resized full-resolution maps, warned
    fallback = walker(dataset[index], CAMData(cams, keys), 'v1.npz')
    torch.testing.assert_close(fallback, _expected(img_id, cams,
                                                   synthetic_root))
    assert 'v1.npz has no stride-4 CAMs' in capsys.readouterr().out
