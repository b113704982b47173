"""ICD's loss terms and refinement steps on hand-made tensors
(mmwsss.models.utils.icd), each against the formula of the reference's
custom op (spec §3.3), gradients included."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmwsss.models.utils.icd import (bottom_up_loss, exp_warmup,
                                     side_strength, signed_normalise,
                                     signs_from_state, single_label_mask,
                                     superpixel_membership,
                                     superpixel_refine, top_down_loss,
                                     top_down_targets, update_sign_state)


def test_single_label_mask():
    labels = torch.tensor([[1., 0, 0], [1, 1, 0], [0, 0, 0]])
    assert single_label_mask(labels).tolist() == [1., 0., 0.]


def test_bottom_up_loss_value_and_the_reference_gradient():
    torch.manual_seed(0)
    b, d, c, h, w = 3, 5, 4, 2, 3
    feat = torch.randn(b, d, h, w, requires_grad=True)
    weight = torch.randn(c, d, requires_grad=True)
    # image 0 single-label (class 1), image 1 two labels (ignored), image 2
    # single-label (class 3)
    labels = torch.tensor([[0., 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]])
    scale = 10.0
    loss, scores = bottom_up_loss(feat, weight, labels, scale)

    unit = weight.detach() / weight.detach().norm(dim=1, keepdim=True)
    f = feat.detach().flatten(2)  # (B, D, P)
    expected = 0.0
    grad = torch.zeros(c, d)
    for img, cls in ((0, 1), (2, 3)):
        proj = unit[cls] @ f[img]  # (P,)
        expected += (proj ** 2).sum()
        # d/dŵ of Σ_p (ŵ·f_p)² = 2 Σ_p (ŵ·f_p) f_p, then the normalisation
        # Jacobian (I − ŵŵᵀ)/‖W‖ of the reference's hand-written backward
        g_unit = 2 * (f[img] * proj).sum(dim=1)
        jac = (torch.eye(d) - torch.outer(unit[cls], unit[cls])) \
            / weight.detach()[cls].norm()
        grad[cls] += jac @ g_unit
    factor = -scale / (2 * h * w * b)
    assert loss.item() == pytest.approx(factor * expected.item(), rel=1e-5)
    assert torch.allclose(scores, torch.einsum('bdhw,cd->bchw', feat, unit),
                          atol=1e-5)
    assert not scores.requires_grad
    loss.backward()
    assert feat.grad is None  # only W learns from the bottom-up loss
    assert torch.allclose(weight.grad, factor * grad, atol=1e-5)
    # no single-label image: no loss, no gradient
    zero, _ = bottom_up_loss(feat, weight, labels[1:2], scale)
    assert zero.item() == 0.0


def test_side_strength_and_sign_state():
    # one image, 2 classes, 2x2 cells
    cams = torch.tensor([[[[4., 2], [-1, 0]], [[1., 1], [3, 5]]]])
    scores = torch.tensor([[[[1., 1], [-1, -1]], [[1., 1], [-1, -1]]]])
    labels = torch.tensor([[1., 1]])
    sums, counts = side_strength(cams, scores, labels)
    # class 0: pos side ReLU(4, 2) -> 3, neg side ReLU(-1, 0) -> 0
    # class 1: pos side 1, neg side 4
    assert sums.tolist() == [[3., 0.], [1., 4.]]
    assert counts.tolist() == [1., 1.]
    state = torch.zeros(3, 2)
    state = update_sign_state(state, torch.cat([sums, torch.zeros(1, 2)]),
                              torch.tensor([1., 1., 0.]), momentum=0.9)
    assert torch.allclose(state, torch.tensor([[.3, 0.], [.1, .4], [0, 0]]))
    # class 1's CAM is stronger on the negative side: its sign flips;
    # class 2 (absent) keeps its state and the default +1
    assert signs_from_state(state).tolist() == [1., -1., 1.]
    # a second image of class 0 only: the batch mean over labelled images
    sums, counts = side_strength(
        torch.cat([cams, cams.flip(-1)]), torch.cat([scores, scores]),
        torch.tensor([[1., 1], [1., 0]]))
    assert counts.tolist() == [2., 1.]
    assert sums[0].tolist() == [6., 0.]


def test_side_strength_empty_side_is_zero():
    cams = torch.ones(1, 1, 2, 2)
    scores = torch.ones(1, 1, 2, 2)  # no negative cell
    sums, _ = side_strength(cams, scores, torch.ones(1, 1))
    assert sums.tolist() == [[1., 0.]]


@pytest.mark.parametrize('size', [(4, 5), (1, 3), (13, 17)])
def test_superpixel_membership_is_the_bilinear_one_hot(size):
    torch.manual_seed(0)
    sp = torch.randint(0, 7, (2, 13, 17))
    got = superpixel_membership(sp, size, 9)
    one_hot = F.one_hot(sp, 9).permute(0, 3, 1, 2).float()
    want = F.interpolate(one_hot, size=size, mode='bilinear',
                         align_corners=True).flatten(2)
    assert torch.allclose(got, want, atol=1e-5)
    assert torch.allclose(got.sum(1), torch.ones(2, size[0] * size[1]))


def test_superpixel_refine_hand_made():
    # one image, 3 classes (the third unlabelled), a 1x6 grid, superpixels
    # {0, 1}, {2, 3}, {4, 5}: the third is negative for every class
    scores = torch.tensor([[[[2., 1, -1, -3, -1, -2]],
                            [[-1., -1, 3, 1, -2, -2]],
                            [[5., 5, 5, 5, 5, 5]]]])
    labels = torch.tensor([[1., 1, 0]])
    sp = torch.tensor([[[0, 0, 1, 1, 2, 2]]])
    membership = superpixel_membership(sp, (1, 6), 3)
    out = superpixel_refine(scores, membership, labels)
    # sp 0: class 0 (fg) -> mean ReLU 1.5; class 1 -> mean min(., 0) = -1
    # sp 1: class 1 (fg) -> 2; class 0 -> -2
    # sp 2: background -> mean of the negative parts: -1.5, -2
    want = torch.tensor([[[[1.5, 1.5, -2, -2, -1.5, -1.5]],
                          [[-1., -1, 2, 2, -2, -2]],
                          [[0., 0, 0, 0, 0, 0]]]])
    assert torch.allclose(out, want)


def test_superpixel_refine_class_by_normalised_share():
    # both classes positive in one superpixel: the class with the larger
    # mean of ReLU(sc)/max_c sc wins, and only it keeps positive values
    scores = torch.tensor([[[[4., 1]], [[2., 3]]]])
    labels = torch.ones(1, 2)
    membership = superpixel_membership(torch.zeros(1, 1, 2, dtype=torch.long),
                                       (1, 2), 1)
    out = superpixel_refine(scores, membership, labels)
    # shares: class 0 (1 + 1/3)/2, class 1 (1/2 + 1)/2 -> class 1
    assert torch.allclose(out, torch.tensor([[[[0., 0]], [[2.5, 2.5]]]]))


def test_signed_normalise_and_targets():
    refined = torch.tensor([[[[4., 1, 0.5, -0.1, -2]]]])
    norm = signed_normalise(refined)
    assert torch.allclose(norm, torch.tensor([[[[1., .25, .125, -.05,
                                                 -1.]]]]))
    target, mask = top_down_targets(refined, 0.2)
    assert target.flatten().tolist() == [1., 1., 1., 0., 0.]
    assert mask.flatten().tolist() == [1., 1., 0., 0., 1.]


def test_top_down_loss_and_the_reference_gradient():
    torch.manual_seed(0)
    b, c, h, w = 2, 3, 2, 2
    logits = torch.randn(b, c, h, w, requires_grad=True)
    refined = torch.randn(b, c, h, w)
    labels = torch.tensor([[1., 0, 1], [0, 1, 0]])
    omega = 0.3
    loss = top_down_loss(logits, refined, labels, 0.2, omega)
    target, mask = top_down_targets(refined, 0.2)
    keep = mask * labels[..., None, None]
    bce = F.binary_cross_entropy_with_logits(logits.detach(), target,
                                             reduction='none')
    # normalised by hw·B, not by the masked count
    assert loss.item() == pytest.approx(
        (omega * (bce * keep).sum() / (h * w * b)).item(), rel=1e-6)
    loss.backward()
    # the reference's ICD_TopDown backward: ω (σ(z) − t) mask y / (hw B)
    want = omega * (logits.detach().sigmoid() - target) * keep / (h * w * b)
    assert torch.allclose(logits.grad, want, atol=1e-7)


def test_exp_warmup():
    total = 10
    assert exp_warmup(0, total) == pytest.approx(math.exp(-10))
    assert exp_warmup(5, total) == pytest.approx(math.exp(-5))
    assert exp_warmup(9, total) == pytest.approx(math.exp(-1))
    assert exp_warmup(10, total) == 1.0
    assert exp_warmup(500, total) == 1.0
    assert exp_warmup(3, 0) == 1.0
    values = [exp_warmup(i, total) for i in range(12)]
    assert values == sorted(values)
