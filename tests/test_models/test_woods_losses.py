"""W-OoD losses and the adversarial climb on hand-made tensors: values
worked out by hand, gradient signs, the clamp range, the exclusion
option."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import init_default_scope

from mmwsss.models.losses import (OoDClassificationLoss, WOoDMetricLoss,
                                  push_threshold)
from mmwsss.models.utils import adversarial_climb
from mmwsss.registry import MODELS
from mmwsss.utils.errors import ConfigError

# B = 2 features, C = 2 class centres, K = 4 OoD centres (2-d)
FEATURES = [[0., 0.], [3., 4.]]
LABELS = [[1., 0.], [1., 1.]]
CLASS_CENTRES = [[0., 0.], [0., 4.]]
OOD_CENTRES = [[1., 0.], [0., 2.], [6., 8.], [10., 0.]]


def metric_inputs():
    return (torch.tensor(FEATURES, requires_grad=True),
            torch.tensor(LABELS), torch.tensor(CLASS_CENTRES),
            torch.tensor(OOD_CENTRES))


def test_push_threshold_by_hand():
    # nonzero distances 1, 2, sqrt13, sqrt20, 5, sqrt65, 10, 10 (one zero
    # entry is ignored): the largest 80 % (6 of 8) end at sqrt(13)
    dist = torch.tensor([[1., 2., 10., 10.], [20**.5, 13**.5, 5., 65**.5],
                         [0., 0., 0., 0.]])
    assert push_threshold(dist, 0.2).item() == pytest.approx(13**.5)
    assert push_threshold(torch.zeros(2, 3), 0.2).item() == 0
    # push_fraction 0: τ is the smallest nonzero entry, nothing is below
    assert push_threshold(dist, 0.0).item() == pytest.approx(1.0)


def test_metric_loss_value_by_hand():
    f, y, mu, nu = metric_inputs()
    loss = WOoDMetricLoss(loss_weight=1.0)(f, y, mu, nu)
    # pull: y·d = [[0, 0], [5, 3]] -> mean 2, scaled by C/K = 2/4
    # push: τ = sqrt(13); entries below it: 1 and 2 -> 3 / 8
    assert loss.item() == pytest.approx(0.5 * 2 - 3 / 8)
    weighted = WOoDMetricLoss()(f, y, mu, nu)
    assert weighted.item() == pytest.approx(0.007 * (1 - 3 / 8))
    scaled = WOoDMetricLoss(pull_scale=1.0, loss_weight=1.0)(f, y, mu, nu)
    assert scaled.item() == pytest.approx(2 - 3 / 8)


def test_metric_loss_gradients():
    f, y, mu, nu = metric_inputs()
    WOoDMetricLoss(loss_weight=1.0)(f, y, mu, nu).backward()
    # f0 sits on its class centre (no pull) and is pushed from ν0 and ν1:
    # grad = −(1/8)·[(f0−ν0)/1 + (f0−ν1)/2] = (1/8, 1/8)
    assert f.grad[0].tolist() == pytest.approx([0.125, 0.125])
    # f1 is pulled to μ0 and μ1 and pushed from nothing:
    # grad = (1/2)(1/4)·[(f1−μ0)/5 + (f1−μ1)/3] = (0.2, 0.1)
    assert f.grad[1].tolist() == pytest.approx([0.2, 0.1])
    # a descent step moves f1 towards its centres, f0 away from ν0 and ν1
    stepped = f.detach() - 0.1 * f.grad
    assert torch.dist(stepped[1], mu[0]) < torch.dist(f[1].detach(), mu[0])
    assert torch.dist(stepped[1], mu[1]) < torch.dist(f[1].detach(), mu[1])
    for k in (0, 1):
        assert torch.dist(stepped[0], nu[k]) > torch.dist(f[0].detach(),
                                                          nu[k])
    # the centres get no gradient and are never modified
    assert torch.equal(mu, torch.tensor(CLASS_CENTRES))


def test_metric_loss_checks_shapes_and_options():
    f, y, mu, nu = metric_inputs()
    loss = WOoDMetricLoss()
    with pytest.raises(ValueError, match='labels'):
        loss(f, y[:, :1], mu, nu)
    with pytest.raises(ValueError, match='K x D'):
        loss(f, y, mu, nu[:, :1])
    with pytest.raises(ConfigError, match='push_fraction'):
        WOoDMetricLoss(push_fraction=1.0)


def test_ood_loss_value_and_gradient():
    z = torch.tensor([[2., 0., -1.], [0., 3., 1.]], requires_grad=True)
    loss = OoDClassificationLoss(loss_weight=1.0)(z)
    # the multi-label soft margin against all-zero targets
    ref = F.multilabel_soft_margin_loss(z, torch.zeros(2, 3))
    assert loss.item() == pytest.approx(ref.item())
    sp = lambda v: math.log1p(math.exp(v))  # noqa: E731
    by_hand = ((sp(2) + sp(0) + sp(-1)) / 3 + (sp(0) + sp(3) + sp(1)) / 3) / 2
    assert loss.item() == pytest.approx(by_hand)
    loss.backward()
    # d/dz softplus = sigmoid > 0: descent lowers every OoD logit
    assert torch.allclose(z.grad, torch.sigmoid(z.detach()) / 6)
    assert (z.grad > 0).all()
    assert OoDClassificationLoss()(z).item() == pytest.approx(0.25 * by_hand)


def test_ood_loss_exclusion_is_explicit():
    z = torch.tensor([[2., 0., -1.], [0., 3., 1.]], requires_grad=True)
    full = OoDClassificationLoss(loss_weight=1.0)
    assert full.exclude_classes == ()  # no class is special by default
    excl = OoDClassificationLoss(exclude_classes=[1], loss_weight=1.0)
    loss = excl(z)
    # image 1's top class is 1: dropped, but B stays 2
    sp = lambda v: math.log1p(math.exp(v))  # noqa: E731
    assert loss.item() == pytest.approx((sp(2) + sp(0) + sp(-1)) / 3 / 2)
    loss.backward()
    assert torch.equal(z.grad[1], torch.zeros(3))
    assert (z.grad[0] > 0).all()
    # excluding a class nobody tops changes nothing
    assert OoDClassificationLoss(exclude_classes=[2], loss_weight=1.0)(
        z).item() == pytest.approx(full(z).item())


def test_ood_loss_option_errors():
    with pytest.raises(ConfigError, match='ints >= 0'):
        OoDClassificationLoss(exclude_classes=[-1])
    with pytest.raises(ConfigError, match='ints >= 0'):
        OoDClassificationLoss(exclude_classes=['bottle'])
    with pytest.raises(ConfigError, match='index >= C = 3'):
        OoDClassificationLoss(exclude_classes=[3])(torch.zeros(2, 3))


def test_losses_are_registered():
    init_default_scope('mmwsss')
    metric = MODELS.build(dict(type='WOoDMetricLoss'))
    ood = MODELS.build(dict(type='OoDClassificationLoss',
                            exclude_classes=[4]))
    assert metric.loss_weight == 0.007 and metric.push_fraction == 0.2
    assert ood.loss_weight == 0.25 and ood.exclude_classes == (4, )


# ------------------------------------------------------ adversarial climb
def linear_model():
    weight = torch.tensor([[1., -2.], [0.5, 0.], [-1., 4.]])  # 3 -> C=2
    return lambda x: x.flatten(1) @ weight


def test_climb_by_hand():
    x = torch.tensor([[1., 0., 0.], [0., 0., 1.]])
    # top classes: image 0 -> class 0 (1 vs -2), image 1 -> class 1 (4 vs
    # -1); g = W[:, top] = (1, .5, -1) and (-2, 0, 4), max|g| = 4
    out = adversarial_climb(linear_model(), x, step=0.07)
    expected = x + 0.07 * torch.tensor([[1., .5, -1.], [-2., 0., 4.]]) / 4
    assert torch.allclose(out, expected.clamp(0, 1))
    # entries pushed outside the batch's [0, 1] are clamped to it
    assert out[0, 0] == 1 and out[1, 2] == 1 and out[0, 2] == 0


def test_climb_stays_in_range_and_raises_the_score():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(4, 5))
    x = torch.randn(3, 3, 8, 8) * 2 + 1
    out = adversarial_climb(net, x, step=0.07)
    assert out.shape == x.shape and not out.requires_grad
    assert out.min() >= x.min() and out.max() <= x.max()
    change = (out - x).abs()
    assert change.max() <= 0.07 + 1e-6 and change.max() > 0.069
    with torch.no_grad():  # the top class score goes up (small step)
        assert net(out).max(1).values.sum() > net(x).max(1).values.sum()
    assert all(p.grad is None for p in net.parameters())
    # works under no_grad too (the caller's context)
    with torch.no_grad():
        assert torch.equal(adversarial_climb(net, x, step=0.07), out)


def test_climb_zero_gradient_and_errors():
    x = torch.rand(2, 3)
    out = adversarial_climb(lambda v: v.sum(1, keepdim=True) * 0, x)
    assert torch.equal(out, x)
    with pytest.raises(ValueError, match='B x C logits'):
        adversarial_climb(lambda v: v.sum(), x)
    with pytest.raises(ValueError, match='step'):
        adversarial_climb(linear_model(), x, step=-1)
