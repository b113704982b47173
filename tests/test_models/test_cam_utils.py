import torch

from mmwsss.models.losses import MultiLabelSoftMarginLoss
from mmwsss.models.utils import (label_smoothing, multi_scale_flip_forward,
                                 normalize_cam)


def test_normalize_cam_relu_and_max():
    cam = torch.tensor([[[[-1.0, 2.0], [4.0, 0.0]]]])
    out = normalize_cam(cam)
    expected = torch.tensor([[[[0.0, 0.5], [1.0, 0.0]]]]) * 4 / (4 + 1e-5)
    assert torch.allclose(out, expected)
    assert torch.equal(normalize_cam(torch.zeros(2, 3, 4, 4)),
                       torch.zeros(2, 3, 4, 4))


def test_label_smoothing_values():
    y = torch.tensor([1.0, 0.0])
    assert torch.allclose(label_smoothing(y, 0.1), torch.tensor([0.95, 0.05]))


def test_loss_matches_torch_multilabel_soft_margin():
    torch.manual_seed(0)
    x = torch.randn(4, 5)
    y = (torch.rand(4, 5) > 0.5).float()
    ref = torch.nn.MultiLabelSoftMarginLoss()(x, y)
    assert torch.allclose(MultiLabelSoftMarginLoss()(x, y), ref, atol=1e-6)
    smoothed = label_smoothing(y, 0.1)
    ref_ls = torch.nn.MultiLabelSoftMarginLoss()(x, smoothed)
    got = MultiLabelSoftMarginLoss(label_smoothing=0.1)(x, y)
    assert torch.allclose(got, ref_ls, atol=1e-6)
    assert not torch.allclose(got, ref)


def test_tta_flip_equivariant_forward_gives_doubled_sum():
    # identity "network" at stride 1: each pass returns relu(x) itself
    x = torch.randn(1, 2, 8, 12)
    out = multi_scale_flip_forward(lambda t: t, x, scales=(1.0, ), flip=True,
                                   stride=1)
    assert torch.allclose(out, 2 * torch.relu(x), atol=1e-6)
    out2 = multi_scale_flip_forward(lambda t: t, x, scales=(1.0, 1.0),
                                    flip=False, stride=1)
    assert torch.allclose(out2, 2 * torch.relu(x), atol=1e-6)


def test_tta_output_size_and_scales():
    calls = []

    def fwd(t):
        calls.append(tuple(t.shape))
        return t[:, :1, ::4, ::4]  # stride 4

    x = torch.randn(1, 3, 20, 28)
    out = multi_scale_flip_forward(fwd, x, scales=(1.0, 0.5, 2.0), stride=4)
    assert out.shape == (1, 1, 20, 28)
    assert calls == [(2, 3, 20, 28), (2, 3, 10, 14), (2, 3, 40, 56)]


def _hot(h, w, i, j):
    m = torch.zeros(1, 1, h, w)
    m[0, 0, i, j] = 1.0
    return m


def test_upsample_corner_puts_cell_i_at_pixel_stride_i():
    from mmwsss.models.utils import upsample_to
    out = upsample_to(_hot(4, 4, 1, 2), (64, 64), 16, align='corner')
    peak = divmod(int(out.flatten().argmax()), 64)
    assert peak == (16, 32)
    assert out.shape == (1, 1, 64, 64)
    # a map of a half-size image: cell i sits at pixel 2·16·i
    out = upsample_to(_hot(2, 2, 1, 1), (64, 64), 16, align='corner',
                      scale=0.5)
    assert divmod(int(out.flatten().argmax()), 64) == (32, 32)


def test_upsample_center_is_half_a_cell_later():
    from mmwsss.models.utils import upsample_to
    out = upsample_to(_hot(4, 4, 1, 2), (64, 64), 16, align='center')
    y, x = divmod(int(out.flatten().argmax()), 64)
    assert 16 + 7 <= y <= 16 + 8 and 32 + 7 <= x <= 32 + 8


def test_upsample_rejects_unknown_alignment():
    import pytest
    from mmwsss.models.utils import upsample_to
    with pytest.raises(ValueError, match='align'):
        upsample_to(_hot(2, 2, 0, 0), (8, 8), 4, align='middle')
