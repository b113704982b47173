"""The pseudo-mask data configs (configs/_base_/datasets/*_pseudo.py) turn
any stock MMSeg config into training on pseudo-masks with one
``pseudo_mask_dir`` line: PseudoMaskRunner / apply_pseudo_data swap the
data sets, keep label 0 and set num_classes. Two stock segmentors train 2
CPU iterations each on the synthetic set (one through MMSeg's own
tools/train.py)."""
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmwsss.engine import apply_pseudo_data
from tests.conftest import REPO, run_tool

DATA_DIR = osp.join(REPO, 'configs', '_base_', 'datasets')
SEGFORMER = 'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py'
DEEPLAB_R18 = ('mmseg::deeplabv3plus/'
               'deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py')
PSPNET_VOC = 'mmseg::pspnet/pspnet_r101-d8_4xb4-20k_voc12aug-512x512.py'
PSEUDO = dict(voc12=21, coco14=81, synthetic=7)


def user_config(tmp_path, stock: str, data: str, body: str = '',
                name: str = 'user.py') -> str:
    """The config a user writes: the two bases and ``body``."""
    path = tmp_path / name
    path.write_text(f"_base_ = [{stock!r}, "
                    f"{osp.join(DATA_DIR, data + '_pseudo.py')!r}]\n" + body)
    return str(path)


def stock_config(tmp_path, stock: str) -> Config:
    path = tmp_path / 'stock.py'
    path.write_text(f'_base_ = [{stock!r}]\n')
    return Config.fromfile(str(path))


@pytest.mark.parametrize('data', sorted(PSEUDO))
@pytest.mark.parametrize('stock', [SEGFORMER, DEEPLAB_R18, PSPNET_VOC],
                         ids=['segformer', 'deeplabv3plus_r18', 'pspnet'])
def test_one_line_config(tmp_path, stock, data):
    path = user_config(tmp_path, stock, data,
                       "pseudo_mask_dir = '/masks'\n")
    cfg = Config.fromfile(path)
    assert cfg.runner_type == 'mmwsss.PseudoMaskRunner'
    assert cfg.default_scope == 'mmseg'  # the segmentor's scope is kept
    stock_cfg = stock_config(tmp_path, stock)
    apply_pseudo_data(cfg)

    train = cfg.train_dataloader.dataset
    assert train.data_prefix.seg_map_path == '/masks'
    assert train.type == cfg.pseudo_data.type
    assert cfg.val_dataloader.dataset.data_prefix.seg_map_path in (
        'SegmentationClass', 'coco_seg_anno')
    assert cfg.test_dataloader.dataset == cfg.val_dataloader.dataset
    # everything else of the loaders and the schedule stays stock
    for loader in ('train_dataloader', 'val_dataloader'):
        assert cfg[loader].batch_size == stock_cfg[loader].batch_size
        assert cfg[loader].sampler == stock_cfg[loader].sampler
    assert cfg.optim_wrapper == stock_cfg.optim_wrapper
    assert cfg.train_cfg == stock_cfg.train_cfg
    stock_train = stock_cfg.train_dataloader.dataset
    stock_pipeline = stock_train.get('pipeline') or \
        stock_train.datasets[0].pipeline  # voc12aug: a ConcatDataset
    for got, want in zip(train.pipeline, stock_pipeline):
        if want.type == 'LoadAnnotations':  # label 0 is background here
            assert not got.get('reduce_zero_label')
        else:
            assert got == want
    assert len(train.pipeline) == len(stock_pipeline)

    heads = [cfg.model.decode_head, cfg.model.get('auxiliary_head')]
    assert [h.num_classes for h in heads if h] == \
        [PSEUDO[data]] * len([h for h in heads if h])
    # applying it again changes nothing
    again = Config(cfg.to_dict())
    assert apply_pseudo_data(again).to_dict() == cfg.to_dict()

    # the head builds with the new classes (structure only: meta device)
    with DefaultScope.overwrite_default_scope('mmseg'), \
            torch.device('meta'):
        from mmseg.registry import MODELS
        head = MODELS.build(cfg.model.decode_head)
    assert head.conv_seg.out_channels == PSEUDO[data]


def test_data_root_and_mask_dir_are_one_line_each(tmp_path):
    path = user_config(
        tmp_path, SEGFORMER, 'voc12', "pseudo_mask_dir = 'pm'\n"
        "pseudo_data = dict(data_root='/data/VOC2012')\n")
    cfg = apply_pseudo_data(Config.fromfile(path))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.data_root == '/data/VOC2012'
    assert cfg.train_dataloader.dataset.data_prefix == dict(
        img_path='JPEGImages', seg_map_path='pm')


def test_clear_errors(tmp_path):
    cfg = Config.fromfile(
        user_config(tmp_path, SEGFORMER, 'voc12', 'pseudo_mask_dir = None\n'))
    with pytest.raises(ValueError, match='pseudo_mask_dir'):
        apply_pseudo_data(cfg)
    cfg = stock_config(tmp_path, SEGFORMER)
    with pytest.raises(KeyError, match='_pseudo.py'):
        apply_pseudo_data(cfg)
    # per-class loss weights sized for the stock classes are refused
    cfg = Config.fromfile(user_config(tmp_path, SEGFORMER, 'voc12'))
    cfg.model.decode_head.loss_decode.class_weight = [1.0] * 150
    with pytest.raises(ValueError, match='class_weight'):
        apply_pseudo_data(cfg)


# A user's CPU run on the synthetic set: the one-line config plus what a
# CPU and 64-96 px images need (no pretrained download, 64 px crops, the
# stock pipelines scaled down, 2 iterations). SyncBN needs no change:
# mmengine turns it into BN without a distributed launch.
TINY_RUN = """
pseudo_mask_dir = {masks!r}
pseudo_data = dict(data_root={root!r})
crop_size = (64, 64)
model = dict(data_preprocessor=dict(size=crop_size), {weights})
tiny_train = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label={rzl}),
    dict(type='RandomResize', scale=(128, 64), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
tiny_test = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 64), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label={rzl}),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=tiny_train))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=tiny_test))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
"""
STOCK_TRAIN = osp.join(
    osp.dirname(__import__('mmseg').__file__), '.mim', 'tools', 'train.py')


@pytest.mark.slow
@pytest.mark.parametrize(
    'stock,weights,rzl,entry',
    [(SEGFORMER, 'backbone=dict(init_cfg=None)', True, 'tools/train.py'),
     (DEEPLAB_R18, 'pretrained=None', False, STOCK_TRAIN)],
    ids=['segformer_mit-b0', 'deeplabv3plus_r18'])
def test_stock_segmentor_trains_on_pseudo_masks(synthetic_root, pseudo_masks,
                                                tmp_path, monkeypatch, stock,
                                                weights, rzl, entry):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    masks, _ = pseudo_masks
    config = user_config(
        tmp_path, stock, 'synthetic',
        TINY_RUN.format(masks=masks, root=synthetic_root, weights=weights,
                        rzl=rzl), name='seg.py')
    work = str(tmp_path / 'work')
    if entry == STOCK_TRAIN and not osp.isfile(entry):
        pytest.skip('MMSeg ships no tools/train.py here')
    log = run_tool([entry, config, '--work-dir', work])
    assert re.search(r'Iter\(train\) \[2/2\].*loss:', log)
    assert re.search(r'Iter\(val\).*mIoU: [\d.]+', log)
    # the trained model has the synthetic set's 7 classes
    ckpt = torch.load(osp.join(work, 'iter_2.pth'), map_location='cpu',
                      weights_only=False)
    assert ckpt['state_dict']['decode_head.conv_seg.weight'].shape[0] == 7
    assert ckpt['meta']['dataset_meta']['classes'][1] == 'kite'
    # the config saved in the work dir is the resolved one (for inference)
    dumped = Config.fromfile(osp.join(work, 'seg.py'))
    assert dumped.model.decode_head.num_classes == 7
    assert dumped.train_dataloader.dataset.data_prefix.seg_map_path == masks

    # our tools/test.py selects the runner too; MMSeg's ignores
    # runner_type, so it gets the resolved config of the work dir
    test_config = config if entry == 'tools/train.py' else \
        osp.join(work, 'seg.py')
    test_entry = 'tools/test.py' if entry == 'tools/train.py' else \
        osp.join(osp.dirname(STOCK_TRAIN), 'test.py')
    log = run_tool([
        test_entry, test_config,
        osp.join(work, 'iter_2.pth'), '--work-dir',
        str(tmp_path / 'test')
    ])
    assert re.search(r'Iter\(test\).*mIoU: [\d.]+', log)
    assert 'size mismatch' not in log
