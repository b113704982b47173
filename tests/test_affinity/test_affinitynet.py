"""AffinityNet: loss, frozen backbone, stage features, boundary inference,
weights."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from PIL import Image

from mmwsss.models.affinity import (AffinityLoss, AffinityNet,
                                    affinity_targets, random_walk,
                                    resnet_stages, rw_to_full_resolution)
from mmwsss.models.affinity.affinitynet import (DEFAULT_TEST_CFG,
                                                downsample_labels)
from mmwsss.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmwsss.utils.errors import ConfigError, DataError
from tests.conftest import tiny_backbone

EPS = 1e-5


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmwsss')


def build(**kwargs) -> AffinityNet:
    cfg = dict(
        type='AffinityNet', backbone=tiny_backbone(), num_classes=6, radius=5)
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def samples(labels: torch.Tensor) -> list:
    out = []
    for lab in labels:
        ds = SegDataSample()
        ds.gt_sem_seg = PixelData(data=lab[None].long())
        out.append(ds)
    return out


# ---------------------------------------------------------------------- loss
def test_loss_terms_by_hand():
    # 3 sources (labels 0, 1, 255) x 2 directions
    src = torch.tensor([[[0, 1, 255]]])
    dst = torch.tensor([[[0, 1, 1], [1, 2, 0]]])
    aff = torch.tensor([[[0.9, 0.8, 0.3], [0.2, 0.4, 0.7]]])
    bg_pos, fg_pos, neg = affinity_targets(src, dst)
    assert bg_pos.tolist() == [[[True, False, False], [False, False, False]]]
    assert fg_pos.tolist() == [[[False, True, False], [False, False, False]]]
    # different classes (1 vs 2) and bg vs fg are negatives; 255 never
    assert neg.tolist() == [[[False, False, False], [True, True, False]]]

    out = AffinityLoss()(aff, src, dst)
    l_bg = -math.log(0.9 + EPS) / (1 + EPS)
    l_fg = -math.log(0.8 + EPS) / (1 + EPS)
    l_neg = (-math.log(1 + EPS - 0.2) - math.log(1 + EPS - 0.4)) / (2 + EPS)
    assert out['aff_bg'].item() == pytest.approx(l_bg, rel=1e-5)
    assert out['aff_fg'].item() == pytest.approx(l_fg, rel=1e-5)
    assert out['aff_neg'].item() == pytest.approx(l_neg, rel=1e-5)
    assert out['loss_aff'].item() == pytest.approx(
        ((l_bg / 2 + l_fg / 2) + l_neg) / 2, rel=1e-5)
    assert not out['aff_bg'].requires_grad


def test_loss_ignores_255_and_empty_terms_are_zero():
    src = torch.tensor([[[0, 255]]])
    dst = torch.tensor([[[0, 3], [255, 0]]])
    aff = torch.tensor([[[0.5, 0.1], [0.3, 0.9]]], requires_grad=True)
    out = AffinityLoss()(aff, src, dst)
    assert out['aff_fg'].item() == 0 and out['aff_neg'].item() == 0
    assert out['loss_aff'].item() == pytest.approx(
        -math.log(0.5 + EPS) / (1 + EPS) / 4, rel=1e-5)
    out['loss_aff'].backward()
    # only the one valid (bg, bg) pair gets a gradient
    assert (aff.grad != 0).tolist() == [[[True, False], [False, False]]]

    # nothing valid at all: 0, not NaN, and zero gradients
    aff2 = torch.rand(1, 2, 2, requires_grad=True)
    out = AffinityLoss()(aff2, torch.full((1, 1, 2), 255),
                         torch.full((1, 2, 2), 255))
    assert out['loss_aff'].item() == 0
    out['loss_aff'].backward()
    assert torch.isfinite(aff2.grad).all() and (aff2.grad == 0).all()

    # extreme affinities stay finite
    out = AffinityLoss()(torch.tensor([[[0.0], [1.0]]]), torch.tensor([[[1]]]),
                         torch.tensor([[[1], [2]]]))
    assert torch.isfinite(out['loss_aff'])


def test_labels_reduced_like_pil_nearest():
    rng = np.random.default_rng(0)
    for (h, w), (oh, ow) in (((64, 64), (16, 16)), ((65, 47), (17, 12))):
        lab = rng.integers(0, 7, (h, w)).astype(np.uint8)
        pil = np.asarray(
            Image.fromarray(lab).resize((ow, oh), Image.NEAREST))
        got = downsample_labels(torch.from_numpy(lab)[None, None], (oh, ow))
        np.testing.assert_array_equal(got[0].numpy(), pil)
    lab = torch.arange(64 * 64).view(1, 1, 64, 64)
    assert torch.equal(downsample_labels(lab, (16, 16))[0],
                       lab[0, 0, 2::4, 2::4])


def test_model_loss_uses_path_pairs_of_any_crop_size():
    model = build()
    model.train()
    for size in (64, 48):
        labels = torch.zeros(2, size, size, dtype=torch.long)
        labels[:, :, size // 2:] = 2
        labels[1, :8] = 255
        out = model.loss(torch.randn(2, 3, size, size), samples(labels))
        assert set(out) == {'loss_aff', 'aff_bg', 'aff_fg', 'aff_neg'}
        assert torch.isfinite(out['loss_aff']) and out['loss_aff'] > 0
        assert out['aff_fg'] > 0 and out['aff_neg'] > 0
    # path indices are not part of the state dict
    assert all(k.startswith(('backbone.', 'edge_')) for k in
               model.state_dict())
    # all-ignore labels: zero loss, no NaN
    out = model.loss(torch.randn(1, 3, 64, 64),
                     samples(torch.full((1, 64, 64), 255)))
    assert out['loss_aff'].item() == 0


def test_model_loss_errors():
    model = build()
    with pytest.raises(ValueError, match='neither a class index'):
        model.loss(torch.randn(1, 3, 64, 64),
                   samples(torch.full((1, 64, 64), 9)))
    with pytest.raises(KeyError, match='seg_map_path'):
        model.loss(torch.randn(1, 3, 64, 64), [SegDataSample()])


# ----------------------------------------------------------- frozen backbone
def test_backbone_frozen_and_eval_after_train():
    model = build()
    model.train()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(not m.training for m in model.backbone.modules())
    assert all(m.training for m in model.edge_branches.modules())
    feats = model.extract_feat(torch.randn(1, 3, 64, 64))
    assert not any(f.requires_grad for f in feats)
    logits = model.forward_edges(torch.randn(1, 3, 64, 64))
    assert logits.shape == (1, 1, 16, 16) and logits.requires_grad


def test_optimizer_step_changes_only_edge_layers():
    model = build()
    model.train()
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type='PretrainedScratchOptimWrapperConstructor',
            optim_wrapper_cfg=dict(
                type='OptimWrapper',
                optimizer=dict(
                    type='SGD', lr=0.1, momentum=0.0, weight_decay=1e-4)),
            paramwise_cfg=dict(
                scratch_lr_mult=1.0, bias_lr_mult=1.0,
                bias_decay_mult=1.0)))
    optim = constructor(model)
    assert isinstance(optim, OptimWrapper)
    in_optim = {id(p) for g in optim.optimizer.param_groups
                for p in g['params']}
    edge = {id(p) for n, p in model.named_parameters()
            if n.startswith('edge_')}
    assert in_optim == edge
    assert {g['lr'] for g in optim.optimizer.param_groups} == {0.1}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    labels = torch.zeros(2, 64, 64, dtype=torch.long)
    labels[:, 20:44, 20:44] = 1
    data = dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
                        for _ in range(2)],
                data_samples=samples(labels))
    model.data_preprocessor = MODELS.build(
        dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
             std=[58.395, 57.12, 57.375], bgr_to_rgb=True, size=(64, 64),
             seg_pad_val=255))
    model.train_step(data, optim)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith('edge_') for k in changed)
    # BN running statistics of the backbone are untouched too
    assert not any(k.startswith('backbone.') for k in changed)


def test_unfrozen_backbone_trains_with_the_edge_layers():
    model = build(frozen_backbone=False)
    model.train()
    assert all(p.requires_grad for p in model.backbone.parameters())
    assert all(m.training for m in model.backbone.modules())
    feats = model.extract_feat(torch.randn(2, 3, 64, 64))
    assert all(f.requires_grad for f in feats)
    labels = torch.zeros(2, 64, 64, dtype=torch.long)
    labels[:, 20:44, 20:44] = 1
    loss = model.loss(torch.randn(2, 3, 64, 64), samples(labels))
    sum(loss.values()).backward()
    stem = next(model.backbone.parameters())
    assert stem.grad is not None and stem.grad.abs().sum() > 0
    # the default stays the reference's frozen backbone
    assert build().frozen_backbone


# ------------------------------------------------------------- stage adapter
def test_stage_features_mmpretrain_resnet():
    model = build()
    feats = resnet_stages(model.backbone, torch.randn(1, 3, 64, 64))
    assert [tuple(f.shape) for f in feats] == [
        (1, 8, 16, 16), (1, 8, 16, 16), (1, 16, 8, 8), (1, 32, 4, 4),
        (1, 64, 4, 4)]
    assert model.stage_channels == [8, 8, 16, 32, 64]
    assert model.stage_scales == [1, 1, 2, 4, 4]


def test_stage_features_timm_resnest_stem_after_maxpool():
    pytest.importorskip('timm')
    backbone = dict(
        type='TIMMBackbone', model_name='resnest14d', features_only=True,
        pretrained=False, output_stride=16, out_indices=(4, ))
    model = build(backbone=backbone, num_classes=20)
    assert model.stage_channels == [64, 256, 512, 1024, 2048]
    assert model.stage_scales == [1, 1, 2, 4, 4]
    x = torch.randn(1, 3, 64, 64)
    feats = resnet_stages(model.backbone, x)
    assert [tuple(f.shape[-2:]) for f in feats] == [
        (16, 16), (16, 16), (8, 8), (4, 4), (4, 4)]
    # timm's feature 0 is before the max-pool: the stem is its max-pool
    timm_model = model.backbone.timm_model
    with torch.no_grad():
        pre_pool = timm_model.act1(timm_model.bn1(timm_model.conv1(x)))
        assert pre_pool.shape[-1] == 32
        torch.testing.assert_close(feats[0], timm_model.maxpool(pre_pool))
    assert model.forward_edges(x).shape == (1, 1, 16, 16)


def test_non_resnet_backbone_is_refused():
    with pytest.raises(TypeError, match='ResNet-style'):
        resnet_stages(nn.Conv2d(3, 8, 3), torch.randn(1, 3, 8, 8))


# ---------------------------------------------------------- boundary inference
@pytest.mark.parametrize('size', [(65, 47), (30, 21), (64, 64)])
def test_predict_edges_size_and_flip_equivariance(size):
    model = build(test_cfg=dict(image_size=64))
    model.eval()
    h, w = size
    x = torch.randn(2, 3, h, w)
    edges = model.predict_edges(x)
    assert edges.shape == (2, 1, math.ceil(h / 4), math.ceil(w / 4))
    assert ((edges > 0) & (edges < 1)).all()
    # flip pair averaged with the flipped-back logits: equivariant
    torch.testing.assert_close(model.predict_edges(x.flip(-1)),
                               edges.flip(-1))
    # each image paired with its own flip
    torch.testing.assert_close(model.predict_edges(x[1:]), edges[1:])


def test_predict_edges_pads_right_bottom_and_averages_logits():
    model = build(test_cfg=dict(image_size=64))
    model.eval()
    x = torch.randn(1, 3, 50, 37)
    with torch.no_grad():
        padded = F.pad(torch.cat([x, x.flip(-1)]), (0, 27, 0, 14))
        logits = model.forward_edges(padded)[..., :13, :10]
    expected = torch.sigmoid(logits[:1] / 2 + logits[1:].flip(-1) / 2)
    torch.testing.assert_close(model.predict_edges(x), expected)
    # without flip: the plain forward of the padded image
    model.test_cfg['flip'] = False
    torch.testing.assert_close(model.predict_edges(x),
                               torch.sigmoid(logits[:1]))
    # larger than image_size: no padding
    big = torch.randn(1, 3, 70, 66)
    with torch.no_grad():
        ref = torch.sigmoid(model.forward_edges(big))
    torch.testing.assert_close(model.predict_edges(big, image_size=64), ref)


def test_predict_attaches_edges():
    model = build(test_cfg=dict(image_size=32))
    model.eval()
    ds = SegDataSample(metainfo=dict(img_shape=(40, 30)))
    out = model.forward(torch.randn(1, 3, 40, 30), [ds], mode='predict')
    assert out[0].edges.shape == (1, 10, 8)


# --------------------------------------------------------------- random walk
def cam_sample(img_shape, keys, seed=0) -> SegDataSample:
    """A data sample with hand-made stored CAMs, as LoadCAMs(reduce='keys',
    coarse_stride=4) + PackWSSSInputs give them."""
    gen = torch.Generator().manual_seed(seed)
    h, w = img_shape
    k = len(keys)
    ds = SegDataSample(metainfo=dict(img_shape=img_shape, img_path='x.jpg'))
    ds.set_data(dict(
        gt_cams=PixelData(data=torch.rand(k, h, w, generator=gen)),
        gt_cams_keys=torch.tensor(keys, dtype=torch.long),
        gt_cams_coarse=PixelData(data=torch.rand(
            k, math.ceil(h / 4), math.ceil(w / 4), generator=gen))))
    return ds


@pytest.mark.parametrize('settings', [
    dict(),  # the reference: damped, 2^8 steps, one global max
    dict(exp_times=3, radius=4, damp_edges=False, normalize='class'),
    dict(beta=4, exp_times=2, method='dense'),
    dict(exp_times=2, cam_power=1.5),  # IRN / W-OoD
])
def test_predict_walks_the_stored_cams(settings):
    """predict == random_walk + rw_to_full_resolution called directly on
    the boundary map, per image of a padded batch (K=0 included)."""
    model = build(test_cfg=dict(image_size=32, **settings))
    model.eval()
    cfg = {**DEFAULT_TEST_CFG, **settings}
    inputs = torch.randn(3, 3, 40, 36)
    shapes = [(40, 36), (33, 29), (40, 36)]
    samples = [cam_sample(shapes[0], [2, 5], 0), cam_sample(shapes[1], [1], 1),
               cam_sample(shapes[2], [], 2)]
    edges = model.predict_edges(inputs)
    out = model.predict(inputs, samples)
    for i, (ds, (h, w)) in enumerate(zip(out, shapes)):
        edge = edges[i, 0, :math.ceil(h / 4), :math.ceil(w / 4)]
        torch.testing.assert_close(ds.edges[0], edge)
        walked = random_walk(
            ds.gt_cams_coarse.data ** cfg['cam_power'], edge,
            beta=cfg['beta'],
            exp_times=cfg['exp_times'], radius=cfg['radius'],
            method=cfg['method'], damp_edges=cfg['damp_edges'])
        want = rw_to_full_resolution(walked, (h, w),
                                     normalize=cfg['normalize'])
        assert ds.cams.shape == (len(ds.gt_cams_keys), h, w)
        torch.testing.assert_close(ds.cams, want, rtol=0, atol=0)
        assert torch.equal(ds.cam_keys, ds.gt_cams_keys)
        if len(ds.cam_keys):
            peaks = ds.cams.flatten(1).max(1).values
            if cfg['normalize'] == 'class':
                torch.testing.assert_close(peaks, torch.ones_like(peaks))
            else:
                assert peaks.max() == 1.0


def test_predict_needs_the_coarse_cams_of_the_image_size():
    model = build(test_cfg=dict(image_size=32))
    model.eval()
    ds = cam_sample((40, 36), [3])
    del ds.gt_cams_coarse
    with pytest.raises(KeyError, match='gt_cams_coarse.*LoadCAMs'):
        model.predict(torch.randn(1, 3, 40, 36), [ds])
    ds = cam_sample((40, 36), [3])
    ds.gt_cams = PixelData(data=torch.rand(1, 20, 18))  # another image's
    with pytest.raises(DataError, match='x.jpg'):
        model.predict(torch.randn(1, 3, 40, 36), [ds])


def test_walk_settings_in_test_cfg():
    model = build()
    # one set of defaults: the reference's
    assert {k: model.test_cfg[k] for k in ('beta', 'exp_times', 'radius',
                                           'method', 'normalize',
                                           'damp_edges', 'cam_power')
            } == dict(beta=10.0, exp_times=8, radius=5, method='sparse',
                      normalize='global', damp_edges=True, cam_power=1.0)
    with pytest.raises(KeyError, match='unknown AffinityNet test_cfg keys '
                       r"\['steps'\]"):
        build(test_cfg=dict(steps=3))
    for bad, named in ((dict(method='fast'), 'method'),
                       (dict(normalize='none'), 'normalize'),
                       (dict(radius=1), 'radius'),
                       (dict(beta=0), 'beta'),
                       (dict(cam_power=0), 'cam_power')):
        with pytest.raises(ConfigError, match=f'model.test_cfg.*{named}'):
            build(test_cfg=bad)


# ------------------------------------------------------------------- weights
def test_backbone_weights_from_cam_checkpoints(tmp_path):
    cam = MODELS.build(dict(
        type='CAMClassifier', backbone=tiny_backbone(), num_classes=6,
        in_channels=64))
    torch.manual_seed(1)
    for p in cam.backbone.parameters():
        p.data.normal_()
    cam_ckpt = tmp_path / 'cam.pth'
    torch.save(dict(state_dict=cam.state_dict(), meta={}), cam_ckpt)
    pnoc_ckpt = tmp_path / 'pnoc.pth'
    torch.save(dict(state_dict={
        f'generator.{k}': v for k, v in cam.state_dict().items()}), pnoc_ckpt)

    for path, prefix in ((cam_ckpt, None), (cam_ckpt, 'backbone.'),
                         (pnoc_ckpt, 'generator.backbone.')):
        model = build(pretrained=str(path), pretrained_prefix=prefix)
        model.init_weights()
        for k, v in cam.backbone.state_dict().items():
            torch.testing.assert_close(model.backbone.state_dict()[k], v)

    with pytest.raises(KeyError, match='pretrained_prefix'):
        build(pretrained=str(pnoc_ckpt),
              pretrained_prefix='backbone.').init_weights()
    with pytest.raises(FileNotFoundError, match='model.pretrained'):
        build(pretrained=str(tmp_path / 'nope.pth'),
              pretrained_prefix='backbone.').init_weights()
    with pytest.raises(FileNotFoundError, match='model.pretrained'):
        build(pretrained=str(tmp_path / 'nope.pth')).init_weights()


def test_bad_arguments():
    with pytest.raises(KeyError, match='test_cfg'):
        build(test_cfg=dict(scales=(1.0, )))
    with pytest.raises(ValueError, match='radius'):
        build(radius=1)
