"""Every final-stage config resolves over its stock MMSeg base (``mmseg::``)
and builds its segmentor without pretrained weights."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from tests.conftest import REPO

SEG_DIR = osp.join(REPO, 'configs', 'segmentation')
CONFIGS = sorted(glob.glob(osp.join(SEG_DIR, '*.py')))
NUM_CLASSES = dict(voc=21, coco=81, synthetic=7)


def load(name: str) -> Config:
    return Config.fromfile(osp.join(SEG_DIR, name))


def test_all_configs_found():
    names = {osp.basename(p) for p in CONFIGS}
    assert {'deeplabv3plus_r101_voc_pseudo.py',
            'deeplabv3plus_r101_coco_pseudo.py', 'pspnet_r101_voc_pseudo.py',
            'deeplabv3plus_tiny_synthetic.py'} <= names


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.basename(p) for p in CONFIGS])
def test_config_resolves_and_builds(path):
    from mmseg.registry import MODELS
    cfg = Config.fromfile(path)
    # Stock MMSeg scope; mmwsss is imported only where a component needs it.
    assert cfg.default_scope == 'mmseg'
    uses_mmwsss = 'mmwsss.' in str(cfg.train_dataloader.dataset.type) + \
        str(cfg.model)
    assert ('custom_imports' in cfg) == uses_mmwsss
    # Weights are local files (no download); tests build without them.
    pretrained = cfg.model.get('pretrained')
    assert pretrained is None or pretrained.startswith('data/pretrained/')
    cfg.model.pretrained = None
    # Build on the meta device: structure only, no memory for R101 (the
    # tiny config's mmpretrain ResNet calls .item() while building: CPU).
    device = 'cpu' if 'tiny' in osp.basename(path) else 'meta'
    with DefaultScope.overwrite_default_scope('mmseg'), \
            torch.device(device):
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'EncoderDecoder'
    dataset = next(k for k in NUM_CLASSES if k in osp.basename(path))
    assert model.decode_head.num_classes == NUM_CLASSES[dataset]
    assert model.auxiliary_head.num_classes == NUM_CLASSES[dataset]
    assert 'tta_pipeline' in cfg and cfg.tta_model.type == 'SegTTAModel'
    assert cfg.val_evaluator.type == 'IoUMetric'
    if 'deeplabv3plus' in path:  # the reference's label smoothing 0.1
        for head, weight in ((model.decode_head, 1.0),
                             (model.auxiliary_head, 0.4)):
            loss = head.loss_decode
            assert type(loss).__name__ == 'LabelSmoothCrossEntropyLoss'
            assert (loss.label_smoothing, loss.loss_weight) == (0.1, weight)


def test_voc_recipe():
    cfg = load('deeplabv3plus_r101_voc_pseudo.py')
    ds = cfg.train_dataloader.dataset
    assert ds.type == 'PascalVOCDataset'
    assert ds.ann_file == 'ImageSets/Segmentation/train_aug.txt'
    assert ds.data_prefix.seg_map_path == 'SegmentationClassPseudo'
    # validation on the true masks
    assert cfg.val_dataloader.dataset.data_prefix.seg_map_path == \
        'SegmentationClass'
    opt = cfg.optim_wrapper.optimizer
    assert (opt.lr, opt.weight_decay, opt.nesterov) == (0.007, 4e-5, True)
    assert cfg.crop_size == (512, 512)
    # ~15 epochs of train_aug (10,582 images) at 8 GPUs x 4
    epochs = cfg.train_cfg.max_iters * 8 * cfg.train_dataloader.batch_size \
        / 10582
    assert 14.5 < epochs < 15.5
    assert cfg.param_scheduler[0].end == cfg.train_cfg.max_iters
    resizes = cfg.tta_pipeline[1].transforms[0]
    assert [t.scale_factor for t in resizes] == [0.5, 1.0, 1.5, 2.0]
    assert len(cfg.tta_pipeline[1].transforms[1]) == 2  # x flip


def test_coco_recipe():
    cfg = load('deeplabv3plus_r101_coco_pseudo.py')
    assert cfg.custom_imports['imports'] == ['mmwsss']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.type == 'mmwsss.COCO14SegDataset'
    assert cfg.optim_wrapper.optimizer.lr == 0.004
    assert cfg.crop_size == (640, 640)
    assert cfg.model.data_preprocessor.size == (640, 640)
    assert cfg.val_dataloader.dataset.data_prefix.seg_map_path == \
        'coco_seg_anno'


def test_other_segmentor_is_stock_plus_train_set(tmp_path):
    """PSPNet: the stock config with only the train set (and the local
    weight path) changed."""
    stock_file = tmp_path / 'stock.py'
    stock_file.write_text("_base_ = ['mmseg::pspnet/"
                          "pspnet_r101-d8_4xb4-20k_voc12aug-512x512.py']\n")
    stock = Config.fromfile(str(stock_file))
    cfg = load('pspnet_r101_voc_pseudo.py')
    ds = cfg.train_dataloader.dataset
    assert ds.type == 'PascalVOCDataset'
    assert ds.data_prefix.seg_map_path == 'SegmentationClassPseudo'
    assert ds.pipeline == stock.train_pipeline
    assert cfg.optim_wrapper == stock.optim_wrapper
    assert cfg.train_cfg == stock.train_cfg
    assert cfg.val_dataloader == stock.val_dataloader
    cfg.model.pretrained = stock.model.pretrained
    assert cfg.model == stock.model
