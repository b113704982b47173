"""Shared fixtures: a tiny synthetic VOC-layout data set and a tiny CAM
model config (real code paths, 32-64 px images)."""
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def tiny_backbone(base: int = 8) -> dict:
    """Slim ResNet-18 at output stride 16 (8·8 = 64 output channels)."""
    return dict(
        type='ResNet',
        _scope_='mmpretrain',
        depth=18,
        stem_channels=base,
        base_channels=base,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        out_indices=(3, ))


def tiny_cam_model(num_classes: int = 6, **kwargs) -> dict:
    cfg = dict(
        type='CAMClassifier',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            size_divisor=16,
            pad_val=0,
            seg_pad_val=255),
        backbone=tiny_backbone(),
        num_classes=num_classes,
        in_channels=64,
        loss=dict(type='MultiLabelSoftMarginLoss', label_smoothing=0.1),
        test_cfg=dict(scales=(1.0, 0.5), flip=True, stride=16))
    cfg.update(kwargs)
    return cfg


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> str:
    """A small synthetic VOC-layout data set (generated once per session)."""
    from mmwsss.datasets.synthetic import generate_synthetic_voc
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_voc(root, num_train=24, num_val=8, seed=0)
    return root
