import pytest
import torch

from mmwsss.models.losses import MultiLabelSoftMarginLoss
from mmwsss.models.utils import label_smoothing, multi_scale_flip_forward


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


def test_upsample_resize_stretches_onto_the_image_by_hand():
    """'resize' is a plain bilinear resize to (H, W): on a 70-px side (not
    a multiple of 16) it stretches 5 cells over 70 px where 'center'
    resizes them to 80 px and crops."""
    from mmwsss.models.utils import upsample_to
    maps = torch.arange(5.).view(1, 1, 5, 1).expand(1, 1, 5, 2)
    resize = upsample_to(maps, (70, 32), 16, align='resize')
    center = upsample_to(maps, (70, 32), 16, align='center')
    # align_corners=False: pixel y reads cell (y + 0.5)·5/70 − 0.5
    y = torch.arange(70.)
    expected = ((y + 0.5) * 5 / 70 - 0.5).clamp(0, 4)
    assert torch.allclose(resize[0, 0, :, 0], expected, atol=1e-5)
    centred = ((y + 0.5) / 16 - 0.5).clamp(0, 4)  # the 80-px grid
    assert torch.allclose(center[0, 0, :, 0], centred, atol=1e-5)
    # on a multiple of the stride the two are the same geometry
    assert torch.allclose(upsample_to(maps, (80, 32), 16, align='resize'),
                          upsample_to(maps, (80, 32), 16, align='center'))


def test_stride4_center_and_resize_by_hand():
    """On the stride-4 grid 'center' keeps the cells at the centre of their
    16-px blocks (the 80-px image's 20 cells, cropped to ceil(70/4) = 18)
    while 'resize' stretches the 5 cells over the 18."""
    from mmwsss.models.utils import resample_to_stride
    maps = torch.arange(5.).view(1, 1, 5, 1)
    center = resample_to_stride(maps, (70, 4), 4, 16, align='center')
    resize = resample_to_stride(maps, (70, 4), 4, 16, align='resize')
    j = torch.arange(18.)
    assert center.shape == resize.shape == (1, 1, 18, 1)
    assert torch.allclose(center[0, 0, :, 0],
                          ((j + 0.5) / 4 - 0.5).clamp(0, 4), atol=1e-6)
    assert torch.allclose(resize[0, 0, :, 0],
                          ((j + 0.5) * 5 / 18 - 0.5).clamp(0, 4), atol=1e-6)


def test_center_needs_a_pitch_dividing_the_stride():
    import pytest
    from mmwsss.models.utils import resample_to_stride
    with pytest.raises(ValueError, match="'resize' or 'corner'"):
        resample_to_stride(_hot(2, 2, 0, 0), (32, 32), 3, 16,
                           align='center')


def test_unknown_test_cfg_alignment_names_the_key():
    import pytest

    from mmwsss.registry import MODELS
    from tests.conftest import tiny_backbone
    with pytest.raises(ValueError, match='test_cfg.coarse_align'):
        MODELS.build(dict(type='mmwsss.CAMClassifier',
                          backbone=tiny_backbone(), num_classes=2,
                          in_channels=64,
                          test_cfg=dict(coarse_align='centre')))


# ---------------------------------------------------------------- stride-4 CAMs
def _two_cell_forward(value_left: float = 1.0):
    """A 'network' at stride 16 whose map is one row of cells
    [value_left, 0, 0, ...] regardless of the input size."""
    def forward(x):
        h, w = x.shape[-2:]
        out = torch.zeros(x.shape[0], 1, -(-h // 16), -(-w // 16))
        out[..., 0] = value_left
        return out
    return forward


def test_stride4_resize_is_the_reference_interpolation_by_hand():
    # 2 cells wide (32 px) -> 8 stride-4 cells; align_corners=False bilinear
    # reads cell j at source x = (j + 0.5)·2/8 − 0.5 = j/4 − 0.375 (clamped)
    x = torch.zeros(1, 3, 16, 32)
    _, coarse = multi_scale_flip_forward(
        _two_cell_forward(), x, scales=(1.0, ), flip=False, stride=16,
        align='center', out_stride=4)  # coarse_align: 'resize' (default)
    expected = torch.tensor([1, 1, 0.875, 0.625, 0.375, 0.125, 0, 0.])
    assert coarse.shape == (1, 1, 4, 8)
    assert torch.allclose(coarse[0, 0, 0], expected, atol=1e-6)


def test_stride4_corner_puts_cell_j_at_pixel_4j_by_hand():
    # cell j at pixel 4j = feature coordinate j/4: 1, .75, .5, .25, 0, ...
    x = torch.zeros(1, 3, 16, 32)
    _, coarse = multi_scale_flip_forward(
        _two_cell_forward(), x, scales=(1.0, ), flip=False, stride=16,
        align='corner', out_stride=4, coarse_align='corner')
    expected = torch.tensor([1, .75, .5, .25, 0, 0, 0, 0.])
    assert torch.allclose(coarse[0, 0, 0], expected, atol=1e-6)
    # at scale 0.5 the image is 16 px wide (1 cell + border clamp): pixel
    # 4j is feature coordinate 4j·0.5/16 = j/8; one cell -> all ones
    _, half = multi_scale_flip_forward(
        _two_cell_forward(), x, scales=(0.5, ), flip=False, stride=16,
        align='corner', out_stride=4, coarse_align='corner')
    assert torch.allclose(half, torch.ones_like(half))


def test_stride4_grid_size_rounds_up_and_sums_scales():
    x = torch.zeros(1, 3, 30, 34)
    full, coarse = multi_scale_flip_forward(
        _two_cell_forward(), x, scales=(1.0, 0.5), flip=True, stride=16,
        align='center', out_stride=4)
    assert full.shape == (1, 1, 30, 34)
    assert coarse.shape == (1, 1, 8, 9)  # ceil(30/4), ceil(34/4)
    # each scale adds its own resample: with the flip pass, the left and
    # right columns both carry 1 (scale 1: 3 cells [1, 0, 1]; scale 0.5:
    # 2 cells [1, 1]), so the top-left cell sums to 1 + 1
    assert float(coarse[0, 0, 0, 0]) == pytest.approx(2.0)
    assert float(coarse[0, 0, 0, 4]) == pytest.approx(1.0)


def test_pil_resize_feeds_the_reference_bytes():
    import numpy as np
    from PIL import Image

    from mmwsss.models.utils import PILResize, build_resize
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (21, 30, 3), dtype=np.uint8)
    mean = torch.tensor([123.675, 116.28, 103.53])
    std = torch.tensor([58.395, 57.12, 57.375])
    norm = (torch.from_numpy(image).permute(2, 0, 1).float()
            - mean[:, None, None]) / std[:, None, None]
    resize = PILResize(mean, std)
    for scale in (0.5, 1.5, 2.0):
        w, h = round(30 * scale), round(21 * scale)
        ref = np.asarray(Image.fromarray(image).resize((w, h),
                                                       Image.BICUBIC))
        ref = (torch.from_numpy(ref.copy()).permute(2, 0, 1).float()
               - mean[:, None, None]) / std[:, None, None]
        got = resize(norm[None], scale)[0]
        assert got.shape == ref.shape
        assert torch.allclose(got, ref, atol=1e-5)
    assert resize(norm[None], 1.0) is not None
    assert torch.equal(resize(norm[None], 1.0), norm[None])
    with pytest.raises(ValueError, match='mean and std'):
        build_resize('pil')
    with pytest.raises(ValueError, match='unknown TTA resize'):
        build_resize('lanczos')
