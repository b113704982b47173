"""Every config parses, builds its model (no pretrained weights) and its
pipelines, and resolves under stock MMSeg entry points via custom_imports."""
import glob
import os.path as osp

import mmcv
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from mmwsss.utils.cam_io import save_cam
from mmwsss.utils.superpixel_io import save_superpixels
from tests.conftest import REPO

# mmwsss-scope configs; configs/segmentation/ and the saliency-refinement
# segmentors (configs/c2am/saliency_refine_*) stay in stock MMSeg's scope
# and are covered by tests/test_segmentation and tests/test_saliency;
# configs/pipelines/ are not model configs (tests/test_pipeline).
CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p and osp.join('configs', 'segmentation') not in p
    and osp.join('configs', 'pipelines') not in p
    and not osp.basename(p).startswith('saliency_refine'))
HEAVY = ('rs269', 'r50')  # big backbones: build once, skip forward
# the CAM trainers of configs/pnoc: preset, key of the second classifier
# and the vanilla run whose checkpoint initialises it
METHODS = {
    'pnoc_rs269_voc': ('PNOC', 'noc', 'work_dirs/cam_rs269_voc/epoch_15.pth'),
    'pnoc_rs101_voc': ('PNOC', 'noc', 'work_dirs/cam_rs101_voc/epoch_15.pth'),
    'pnoc_rs269_coco': ('PNOC', 'noc',
                        'work_dirs/cam_rs269_coco/epoch_15.pth'),
    'poc_rs269_voc': ('POC', 'oc', 'work_dirs/cam_rs269_voc/epoch_15.pth'),
    'occse_rs269_voc': ('OCCSE', 'oc',
                        'work_dirs/cam_rs269_voc/epoch_15.pth'),
    'puzzle_rs269_voc': ('PuzzleCAM', None, None),
    'pnoc_tiny_synthetic': ('PNOC', 'noc',
                            'work_dirs/demo/vanilla/epoch_20.pth'),
    'poc_tiny_synthetic': ('POC', 'oc', 'work_dirs/demo/vanilla/epoch_20.pth'),
    'occse_tiny_synthetic': ('OCCSE', 'oc',
                             'work_dirs/demo/vanilla/epoch_20.pth'),
    'puzzle_tiny_synthetic': ('PuzzleCAM', None, None),
}


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_builds(path, tmp_path):
    from mmwsss.registry import MODELS, TRANSFORMS
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmwsss'
    assert 'mmwsss' in cfg.custom_imports['imports']
    init_default_scope('mmwsss')
    method = METHODS.get(osp.basename(path)[:-3])
    if 'generator' in cfg.model:  # CAM trainers (Puzzle-CAM ... P-NOC)
        assert method, f'{path}: add it to METHODS'
        checkpoints = {k: cfg.model.pop(k, None)
                       for k in ('noc_checkpoint', 'oc_checkpoint')}
        _, second, vanilla = method
        if second:
            assert checkpoints[f'{second}_checkpoint'] == vanilla
        assert not any(checkpoints.values()) or second
        cfg.model.generator.pretrained = None
    else:
        cfg.model.pretrained = None
    if 'init_checkpoint' in cfg.model:  # W-OoD: the stage-0 classifier
        cfg.model.init_checkpoint = None
    model = MODELS.build(cfg.model)
    model.init_weights()  # no file is read: every weight path is None
    if method:  # the preset sets the method's switches, nothing else
        from mmwsss.models.classifiers.pnoc import PRESETS
        preset, second, _ = method
        assert type(model).__name__ == preset
        switches = dict(PRESETS[preset].fixed_switches)
        assert {k: getattr(model, k) for k in switches} == switches
        assert not set(switches) & set(Config.fromfile(path).model)
        assert model.second_key == second
    if hasattr(model, 'generator'):
        model = model.generator
    if 'coarse_align' in getattr(model, 'test_cfg', {}):
        # the reference's geometry (ResNeSt) or 'corner' throughout (tiny)
        pair = (model.test_cfg['align'], model.test_cfg['coarse_align'])
        # ICD's reference: one bilinear resize on the padded canvas
        assert pair in (('center', 'resize'), ('corner', 'corner'),
                        ('resize', 'resize')), pair
    # class-agnostic models (C²AM) have no num_classes
    num_classes = getattr(model, 'num_classes', None)
    if num_classes is not None:
        assert num_classes == len(
            cfg.test_dataloader.dataset.get('metainfo', {}).get(
                'classes', [None] * (num_classes + 1))) - 1

    # transforms reading stored CAMs (C²AM-H hints) get a CAM file here
    for t in cfg.train_dataloader.dataset.pipeline:
        if 'cam_dir' in t:
            t.cam_dir = str(tmp_path)
    save_cam(osp.join(str(tmp_path), 'x.npz'),
             np.full((1, 60, 80), 0.5, np.float32), [1])
    # ... and LoadSuperpixels (ICD) a superpixel map
    for t in cfg.train_dataloader.dataset.pipeline:
        if 'sp_dir' in t:
            t.sp_dir = str(tmp_path)
    save_superpixels(osp.join(str(tmp_path), 'x.png'),
                     np.arange(60 * 80).reshape(60, 80) % 7)

    pipeline = Compose([TRANSFORMS.build(t) for t in
                        cfg.train_dataloader.dataset.pipeline])
    rng = np.random.RandomState(0)
    img_path = str(tmp_path / 'x.jpg')
    mmcv.imwrite(rng.randint(0, 255, (60, 80, 3), np.uint8), img_path)
    results = dict(
        img_path=img_path, img_id='x', seg_fields=[], seg_map_path=None,
        reduce_zero_label=False,
        gt_label=np.eye(num_classes or 3, dtype=np.float32)[0])
    packed = pipeline(results)
    crop = cfg.crop_size
    assert tuple(packed['inputs'].shape) == (3, *crop)
    assert packed['data_samples'].gt_label.shape == (num_classes or 3, )
    if any('cam_dir' in t for t in cfg.train_dataloader.dataset.pipeline):
        assert packed['data_samples'].gt_cam_hint.shape == tuple(crop)
    if any('sp_dir' in t for t in cfg.train_dataloader.dataset.pipeline):
        assert packed['data_samples'].gt_superpixels.shape == tuple(crop)


def test_model_bases_name_no_previous_run():
    """Paths of earlier runs (work_dirs/...) sit in the top-level method
    configs, one visible line each, never in a model base."""
    for path in glob.glob(osp.join(REPO, 'configs', '_base_', 'models',
                                   '*.py')):
        with open(path) as f:
            assert 'work_dirs' not in f.read(), path


def test_stock_mmseg_registry_sees_mmwsss_via_custom_imports():
    """What a stock entry point does: read the config (which imports mmwsss
    through custom_imports) and build from mmseg's registries."""
    from mmseg.registry import MODELS as MMSEG_MODELS
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'cam', 'cam_tiny_synthetic.py'))
    init_default_scope(cfg.default_scope)
    model = MMSEG_MODELS.build(cfg.model)
    assert type(model).__name__ == 'CAMClassifier'


def test_unknown_key_in_config_fails_clearly(tmp_path):
    from mmwsss.registry import MODELS
    bad = tmp_path / 'bad.py'
    bad.write_text(
        "_base_ = ['{}']\nmodel = dict(num_clases=3)\n".format(
            osp.join(REPO, 'configs', 'cam', 'cam_tiny_synthetic.py')))
    cfg = Config.fromfile(str(bad))
    init_default_scope('mmwsss')
    with pytest.raises(TypeError, match='num_clases'):
        MODELS.build(cfg.model)


AFFINITY_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'affinity',
                                             '*.py')))


@pytest.mark.parametrize('path', AFFINITY_CONFIGS,
                         ids=[osp.basename(p) for p in AFFINITY_CONFIGS])
def test_affinity_configs_test_the_random_walk(path, tmp_path):
    """The walk's test set-up (configs/_base_/datasets/rw_cams.py): the
    pipeline packs the stored CAMs, their ids and stride-4 maps; CAMWriter
    saves the walked maps; the walk settings are model.test_cfg."""
    from mmwsss.registry import TRANSFORMS
    cfg = Config.fromfile(path)
    init_default_scope('mmwsss')
    assert 'rw_cfg' not in cfg
    assert {'beta', 'exp_times', 'radius'} <= set(cfg.model.test_cfg)
    assert cfg.test_evaluator == dict(type='CAMWriter',
                                      out_dir='work_dirs/rw')
    pipeline = cfg.test_dataloader.dataset.pipeline
    pipeline[1].cam_dir = str(tmp_path)
    save_cam(osp.join(str(tmp_path), 'x.npz'),
             np.full((2, 60, 80), 0.5, np.float32), [3, 1],
             np.full((2, 15, 20), 0.25, np.float32), 4)
    img_path = str(tmp_path / 'x.jpg')
    mmcv.imwrite(np.zeros((60, 80, 3), np.uint8), img_path)
    packed = Compose([TRANSFORMS.build(t) for t in pipeline])(dict(
        img_path=img_path, img_id='x', seg_fields=[], seg_map_path=None,
        reduce_zero_label=False))
    ds = packed['data_samples']
    assert tuple(packed['inputs'].shape) == (3, 60, 80)
    assert tuple(ds.gt_cams.data.shape) == (2, 60, 80)
    assert ds.gt_cams_keys.tolist() == [3, 1]
    assert tuple(ds.gt_cams_coarse.data.shape) == (2, 15, 20)
