"""C2AM / C²AM-H model pieces: pooling, hint selection and loss (including
the empty-hint case), polarity and predict."""
import math

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmwsss.models.saliency import (C2AM, Disentangler, border_mean,
                                    is_inverted, orient)
from mmwsss.models.utils import multi_scale_flip_forward
from mmwsss.registry import MODELS
from mmwsss.utils.cam_utils import normalize_cam

TINY = dict(
    type='ResNet',
    _scope_='mmpretrain',
    depth=18,
    stem_channels=8,
    base_channels=8,
    strides=(1, 2, 2, 1),
    dilations=(1, 1, 1, 2),
    out_indices=(2, 3))  # layer3 (32 ch) and layer4 (64 ch)
PREPROCESSOR = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=16,
    pad_val=0,
    seg_pad_val=255)
HINT = dict(fg_threshold=0.4, resize_mode='nearest')


def build(**kwargs) -> C2AM:
    init_default_scope('mmwsss')
    cfg = dict(type='C2AM', backbone=TINY, in_channels=96,
               data_preprocessor=PREPROCESSOR,
               test_cfg=dict(scales=(1.0, 0.5), flip=True))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_disentangler_pools_with_the_sigmoid_map():
    torch.manual_seed(0)
    head = Disentangler(4).eval()
    feats = torch.rand(2, 4, 3, 5)
    fg, bg, logits = head(feats)
    prob = torch.sigmoid(logits)  # N×1×h×w
    torch.testing.assert_close(fg, (prob * feats).mean(dim=(2, 3)))
    torch.testing.assert_close(bg, ((1 - prob) * feats).mean(dim=(2, 3)))
    assert logits.shape == (2, 1, 3, 5)


def test_features_are_layer4_then_layer3():
    model = build()
    x = torch.rand(2, 3, 64, 64)
    outs = model.backbone(x)
    feats = model.extract_feat(x)
    assert feats.shape == (2, 96, 4, 4)
    torch.testing.assert_close(feats[:, :64], outs[1])
    torch.testing.assert_close(feats[:, 64:], outs[0])
    with pytest.raises(ValueError, match='in_channels'):
        build(in_channels=64).extract_feat(x)


def test_hint_mask_threshold_inclusive_and_exclusive():
    hints = torch.tensor([[[[0.1, 0.4], [0.39, 0.9]]]])
    inclusive = build(hint=HINT).hint_mask(hints, (2, 2))
    assert inclusive[0, 0].tolist() == [[False, True], [False, True]]
    exclusive = build(hint=dict(HINT, inclusive=False)).hint_mask(
        hints, (2, 2))
    assert exclusive[0, 0].tolist() == [[False, False], [False, True]]


def test_hint_mask_resizes_to_the_logit_map():
    hints = torch.zeros(1, 1, 64, 64)
    hints[..., 32:, 32:] = 1.0  # bottom-right quadrant hinted
    mask = build(hint=dict(fg_threshold=0.4)).hint_mask(hints, (4, 4))
    assert mask[0, 0, 2:, 2:].all() and not mask[0, 0, :2].any()
    assert not mask[0, 0, :, :2].any()


def test_hint_loss_values_mean_and_sum():
    logits = torch.tensor([[[[2.0, -1.0], [0.5, 3.0]]]], requires_grad=True)
    hints = torch.tensor([[[[0.9, 0.1], [0.5, 0.0]]]])
    target = 0.95  # label smoothing 0.1

    def bce(z):
        return -(target * math.log(1 / (1 + math.exp(-z))) +
                 (1 - target) * math.log(1 - 1 / (1 + math.exp(-z))))

    mean = build(hint=HINT).hint_loss(logits, hints)
    assert mean.item() == pytest.approx((bce(2.0) + bce(0.5)) / 2, rel=1e-5)
    total = build(hint=dict(HINT, reduction='sum', loss_weight=2.0)
                  ).hint_loss(logits, hints)
    assert total.item() == pytest.approx(2 * (bce(2.0) + bce(0.5)),
                                         rel=1e-5)
    mean.backward()
    assert logits.grad[0, 0, 0, 1] == 0 and logits.grad[0, 0, 0, 0] != 0


def test_empty_hint_gives_zero_not_nan():
    logits = torch.randn(2, 1, 4, 4, requires_grad=True)
    loss = build(hint=HINT).hint_loss(logits, torch.zeros(2, 1, 4, 4))
    assert loss.item() == 0.0 and not math.isnan(loss.item())
    loss.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))


def samples(n: int, hint: bool, size=(64, 64)) -> list:
    out = []
    for i in range(n):
        ds = SegDataSample(metainfo=dict(img_shape=size))
        if hint:
            h = torch.zeros(1, *size)
            h[:, 16:48, 16:48] = 0.8 if i else 0.0  # sample 0: no hint
            ds.gt_cam_hint = PixelData(data=h)
        out.append(ds)
    return out


def batch(model, n=4, hint=True, training=True):
    torch.manual_seed(0)
    imgs = [torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
            for _ in range(n)]
    return model.data_preprocessor(
        dict(inputs=imgs, data_samples=samples(n, hint)), training)


def test_loss_terms_plain_and_hinted():
    plain = build()
    losses = plain(**batch(plain, hint=False), mode='loss')
    assert set(losses) == {'loss_fg', 'loss_neg', 'loss_bg'}
    hinted = build(hint=HINT)
    losses = hinted(**batch(hinted), mode='loss')
    assert set(losses) == {'loss_fg', 'loss_neg', 'loss_bg', 'loss_hint'}
    assert all(torch.isfinite(v) for v in losses.values())
    with pytest.raises(KeyError, match='LoadCAMHint'):
        hinted(**batch(hinted, hint=False), mode='loss')


def test_hint_config_is_checked():
    with pytest.raises(KeyError, match='fg_treshold'):
        build(hint=dict(fg_treshold=0.4))
    with pytest.raises(ValueError, match='reduction'):
        build(hint=dict(reduction='max'))


def test_polarity_rule_and_orient():
    inside = torch.zeros(1, 1, 6, 6)
    inside[..., 2:4, 2:4] = 1.0  # object in the middle: border 0
    assert border_mean(inside).item() == 0.0
    assert not is_inverted(border_mean(inside))
    assert is_inverted(border_mean(1 - inside))  # border all 1
    z = torch.tensor([1.0, -2.0])
    assert orient(z, True).tolist() == [-1.0, 2.0]
    assert orient(z, False).tolist() == [1.0, -2.0]


def test_polarity_defaults_tracking_and_fix_at_inference():
    assert build().test_cfg['polarity'] == 'auto'
    assert build(hint=HINT).test_cfg['polarity'] == 'keep'
    with pytest.raises(ValueError, match='polarity'):
        build(test_cfg=dict(polarity='maybe'))

    model = build(polarity_momentum=0.5)
    assert not model.inverted()  # untrained: unknown, not inverted
    model.train()
    model(**batch(model, hint=False), mode='loss')
    first = model.border_prob.item()
    assert 0.0 <= first <= 1.0
    model.border_prob.fill_(0.2)
    model(**batch(model, hint=False), mode='loss')
    assert model.border_prob.item() == pytest.approx(0.5 * 0.2 + 0.5 * first,
                                                     abs=1e-5)

    model.eval()
    data = batch(model, n=1, hint=False, training=False)
    x = data['inputs']

    def tta(sign: float) -> torch.Tensor:
        maps = multi_scale_flip_forward(
            lambda inp: sign * model.head(model.extract_feat(inp))[2], x,
            scales=(1.0, 0.5), flip=True, stride=16, align='center')
        return normalize_cam(maps[0])

    with torch.no_grad():
        model.border_prob.fill_(0.2)  # background at the border: keep
        kept = model(**data, mode='predict')[0].saliency
        model.border_prob.fill_(0.8)  # learnt the background: flip
        assert model.inverted()
        flipped = model(**data, mode='predict')[0].saliency
        torch.testing.assert_close(kept, tta(1.0))
        torch.testing.assert_close(flipped, tta(-1.0))
    assert not torch.allclose(kept, flipped)
    # an explicit test_cfg wins over the tracked border mean
    model.test_cfg['polarity'] = 'keep'
    assert not model.inverted()


def test_predict_attaches_saliency_as_a_one_class_cam():
    model = build().eval()
    data = batch(model, n=2, hint=False, training=False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    for ds in out:
        assert ds.saliency.shape == (1, 64, 64)
        assert torch.equal(ds.cams, ds.saliency)
        assert ds.cam_keys.tolist() == [1]
        assert ds.saliency.max() <= 1.0 and ds.saliency.min() >= 0.0


def test_sigmoid_activation_averages_probabilities():
    model = build(test_cfg=dict(scales=(1.0, ), flip=True,
                                activation='sigmoid')).eval()
    data = batch(model, n=1, hint=False, training=False)
    x = data['inputs']
    with torch.no_grad():
        sal = model(**data, mode='predict')[0].saliency
        z = model.head(model.extract_feat(x))[2]
        z_flip = model.head(model.extract_feat(x.flip(-1)))[2].flip(-1)
        expected = multi_scale_flip_forward(
            lambda inp: model.head(model.extract_feat(inp))[2], x,
            scales=(1.0, ), flip=True, stride=16, activation=torch.sigmoid)
    torch.testing.assert_close(sal, expected[0] / 2)
    # at feature resolution: the mean of the two passes' probabilities
    mean = (torch.sigmoid(z) + torch.sigmoid(z_flip)) / 2
    assert sal.min() >= mean.min() - 1e-5 and sal.max() <= mean.max() + 1e-5
    with pytest.raises(ValueError, match='activation'):
        build(test_cfg=dict(activation='tanh'))
