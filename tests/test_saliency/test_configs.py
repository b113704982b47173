"""The C²AM configs carry the reference values; the refinement configs are
stock MMSeg segmentors with 2 classes that learn from 0/255 masks."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from PIL import Image

from tests.conftest import REPO

C2AM_DIR = osp.join(REPO, 'configs', 'c2am')
REFINE = ['saliency_refine_deeplabv3plus_r50_voc.py',
          'saliency_refine_coco.py', 'saliency_refine_tiny_synthetic.py']


def load(name: str) -> Config:
    return Config.fromfile(osp.join(C2AM_DIR, name))


def test_c2am_h_voc_reference_values():
    cfg = load('c2am_h_rs269_voc.py')
    assert cfg.model.type == 'C2AM' and cfg.model.in_channels == 3072
    assert cfg.model.backbone.out_indices == (3, 4)
    assert cfg.model.hint.fg_threshold == 0.4
    assert cfg.model.hint.loss_weight == 1.0
    assert cfg.model.hint.label_smoothing == 0.1
    assert cfg.model.loss_pos.alpha == 0.25
    assert cfg.model.loss_pos.average == 'code'
    assert cfg.crop_size == (448, 448)
    assert cfg.train_cfg.max_epochs == 10
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.optim_wrapper.accumulative_counts == 2
    assert cfg.optim_wrapper.type == 'SumAccumOptimWrapper'
    opt = cfg.optim_wrapper.optimizer
    assert (opt.lr, opt.momentum, opt.weight_decay) == (0.001, 0.0, 1e-4)
    assert cfg.optim_wrapper.paramwise_cfg.scratch_lr_mult == 10.0
    assert cfg.model.test_cfg.scales == (1.0, 0.5, 1.5, 2.0)
    pipeline = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert pipeline == ['LoadImageFromFile', 'LoadCAMHint', 'FixedResize',
                        'RandomCropPad', 'RandomFlip', 'PackWSSSInputs']
    assert cfg.train_dataloader.dataset.pipeline[2].size == (515, 515)
    assert cfg.val_evaluator.num_classes == 2


def test_c2am_h_coco_and_plain_c2am():
    coco = load('c2am_h_rs269_coco.py')
    assert coco.optim_wrapper.optimizer.lr == 0.0005
    assert coco.model.hint.fg_threshold == 0.3
    assert coco.train_dataloader.batch_size == 64
    plain = load('c2am_rs269_voc.py')
    assert plain.model.hint is None
    assert 'LoadCAMHint' not in [
        t.type for t in plain.train_dataloader.dataset.pipeline]


def test_tiny_configs_share_the_vanilla_checkpoint_key():
    for name in ('c2am_tiny_synthetic.py', 'c2am_h_tiny_synthetic.py'):
        cfg = load(name)
        assert cfg.model.pretrained == 'work_dirs/demo/vanilla/epoch_20.pth'


@pytest.mark.parametrize('name', REFINE)
def test_refine_config_is_a_stock_binary_segmentor(name):
    from mmseg.registry import MODELS
    cfg = load(name)
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_imports['imports'] == ['mmwsss']
    pretrained = cfg.model.get('pretrained')
    assert pretrained is None or pretrained.startswith('data/pretrained/')
    cfg.model.pretrained = None
    # big backbones on the meta device (no memory); the tiny one (an
    # mmpretrain ResNet, which calls .item() while building) on the CPU
    device = 'cpu' if 'tiny' in name else 'meta'
    with DefaultScope.overwrite_default_scope('mmseg'), \
            torch.device(device):
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'EncoderDecoder'
    assert model.decode_head.num_classes == 2
    assert model.auxiliary_head.num_classes == 2
    assert 'train' in cfg.data_splits
    if 'coco' not in name:  # COCO14SegDataset keeps its own metainfo
        assert cfg.train_dataloader.dataset.metainfo.classes == (
            'background', 'salient')
    assert 'RemapLabels' in str(cfg.train_dataloader.dataset.pipeline)
    assert cfg.test_evaluator.type == 'mmwsss.SaliencyWriter'
    assert cfg.val_cfg is None and cfg.val_dataloader is None


def test_refine_pipeline_reads_255_as_class_1(tmp_path):
    import mmwsss  # noqa: F401  (registers mmwsss.RemapLabels)
    from mmseg.registry import TRANSFORMS
    cfg = load('saliency_refine_tiny_synthetic.py')
    mask = np.zeros((40, 50), np.uint8)
    mask[10:30, 10:40] = 255
    Image.fromarray(mask, mode='L').save(tmp_path / 'm.png')
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / 'i.jpg')
    with DefaultScope.overwrite_default_scope('mmseg'):
        pipeline = Compose([TRANSFORMS.build(t) for t in
                            cfg.train_dataloader.dataset.pipeline[:3]])
        out = pipeline(dict(img_path=str(tmp_path / 'i.jpg'),
                            seg_map_path=str(tmp_path / 'm.png'),
                            reduce_zero_label=False, seg_fields=[]))
    np.testing.assert_array_equal(out['gt_seg_map'], mask // 255)
