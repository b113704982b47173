"""Loss pieces of Puzzle-CAM / OC-CSE / P-NOC on hand-made tensors."""
import pytest
import torch
from mmengine.logging import MessageHub

from mmwsss.models.utils import (LinearWeight, build_weight,
                                 class_specific_mask, hard_erase,
                                 merge_features, sample_one_positive,
                                 soft_erase, tile_features,
                                 training_progress)


def test_tile_then_merge_is_identity_and_layout():
    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float).view(2, 3, 4, 6)
    tiles = tile_features(x)
    assert tiles.shape == (8, 3, 2, 3)
    # layout [TL_0, TL_1, TR_0, TR_1, BL_0, BL_1, BR_0, BR_1]
    assert torch.equal(tiles[0], x[0, :, :2, :3])
    assert torch.equal(tiles[3], x[1, :, :2, 3:])
    assert torch.equal(tiles[4], x[0, :, 2:, :3])
    assert torch.equal(merge_features(tiles), x)
    with pytest.raises(ValueError, match='even'):
        tile_features(torch.zeros(1, 1, 3, 4))


def test_sample_one_positive_picks_a_present_class():
    labels = torch.tensor([[1., 0., 1.], [0., 1., 0.], [0., 0., 0.]])
    torch.manual_seed(0)
    for _ in range(20):
        choice = sample_one_positive(labels)
        assert choice[0].sum() == 1 and (choice[0] <= labels[0]).all()
        assert choice[1].tolist() == [0., 1., 0.]
        assert choice[2].sum() == 0  # nothing to erase


def _cams():
    cams = torch.zeros(2, 2, 2, 2)
    cams[0, 1] = torch.tensor([[4., 0.], [-1., 2.]])  # sample 0, class 1
    cams[1, 0] = torch.tensor([[1., 1.], [0., 0.]])  # sample 1, class 0
    choice = torch.tensor([[0., 1.], [1., 0.]])
    return cams, choice


def test_class_specific_mask_normalisation():
    cams, choice = _cams()
    per_sample = class_specific_mask(cams, choice, (2, 2), global_norm=False)
    assert torch.allclose(per_sample[0, 0],
                          torch.tensor([[1., 0.], [0., .5]]), atol=1e-4)
    assert torch.allclose(per_sample[1, 0],
                          torch.tensor([[1., 1.], [0., 0.]]), atol=1e-4)
    global_ = class_specific_mask(cams, choice, (2, 2), global_norm=True)
    assert torch.allclose(global_[1, 0],
                          torch.tensor([[.25, .25], [0., 0.]]), atol=1e-4)


def test_soft_erase_keeps_gradient_hard_erase_does_not():
    cams, choice = _cams()
    cams.requires_grad_(True)
    images = torch.ones(2, 3, 2, 2)
    soft = soft_erase(images, cams, choice, global_norm=False)
    assert torch.allclose(soft[0, 0], torch.tensor([[0., 1.], [1., .5]]),
                          atol=1e-4)
    soft.sum().backward()
    assert cams.grad is not None and cams.grad.abs().sum() > 0

    cams.grad = None
    hard = hard_erase(images, cams, choice, threshold=0.2, rule='code')
    assert not hard.requires_grad
    # code rule: keep psi <= 0.2 -> sample 0 keeps the two zero pixels
    assert hard[0, 0].tolist() == [[0., 1.], [1., 0.]]
    assert hard[1, 0].tolist() == [[0., 0.], [1., 1.]]
    # paper rule: keep 1 - psi > 0.2, i.e. psi < 0.8 -> the 0.5 pixel stays
    paper = hard_erase(images, cams, choice, threshold=0.2, rule='paper')
    assert paper[0, 0].tolist() == [[0., 1.], [1., 1.]]
    with pytest.raises(ValueError, match='erase rule'):
        hard_erase(images, cams, choice, rule='other')


@pytest.mark.parametrize('step,expected', [(0, 0.0), (25, 2.0), (50, 4.0),
                                           (99, 4.0)])
def test_linear_weight_reaches_end_at_fraction(step, expected):
    assert LinearWeight(0., 4., 0.5)(step, 100) == pytest.approx(expected)


def test_linear_weight_cse_and_constant():
    cse = LinearWeight(0.3, 1.0, 1.0)
    assert cse(0, 10) == pytest.approx(0.3)
    assert cse(5, 10) == pytest.approx(0.65)
    assert cse(10, 10) == pytest.approx(1.0)
    assert build_weight(2.5)(3, 10) == 2.5
    with pytest.raises(KeyError, match='cosine'):
        build_weight(dict(type='cosine'))


def test_training_progress_reads_message_hub():
    hub = MessageHub.get_instance('pnoc-progress-test')
    hub.update_info('iter', 7)
    hub.update_info('max_iters', 70)
    assert training_progress() == (7, 70)


def test_corner_aligned_mask_peaks_at_the_cell_pixel():
    cams = torch.zeros(1, 1, 4, 4)
    cams[0, 0, 1, 1] = 1.0
    one_hot = torch.ones(1, 1)
    corner = class_specific_mask(cams, one_hot, (64, 64), False,
                                 align='corner')
    center = class_specific_mask(cams, one_hot, (64, 64), False)
    assert divmod(int(corner.flatten().argmax()), 64) == (16, 16)
    y, _ = divmod(int(center.flatten().argmax()), 64)
    assert y >= 23


@pytest.mark.parametrize('size,cells', [((64, 64), (4, 4)),
                                        ((70, 96), (5, 6)),
                                        ((100, 100), (7, 7))])
def test_default_mask_is_the_reference_plain_resize(size, cells):
    """The default erasing mask (align='resize') is the reference's
    ``F.interpolate`` of the ReLU'd CAM to the image, normalised by one
    maximum, bit for bit, at any image size."""
    g = torch.Generator().manual_seed(0)
    cams = torch.randn(2, 3, *cells, generator=g)
    one_hot = torch.tensor([[0., 1., 0.], [0., 0., 1.]])
    mask = (cams * one_hot[:, :, None, None]).sum(1, keepdim=True)
    ref = torch.nn.functional.interpolate(
        torch.relu(mask), size=size, mode='bilinear', align_corners=False)
    ref = ref / (ref.max() + 1e-5)
    assert torch.equal(class_specific_mask(cams, one_hot, size, True), ref)


def test_center_mask_is_the_resize_only_on_stride_multiples():
    """'center' (cells at the centre of their block) and 'resize' agree
    when the image side is a multiple of the stride and differ otherwise
    (70 px at stride 16: 80 px stride-aligned, cropped)."""
    g = torch.Generator().manual_seed(0)
    one_hot = torch.ones(1, 1)
    square = torch.rand(1, 1, 4, 4, generator=g)
    assert torch.allclose(
        class_specific_mask(square, one_hot, (64, 64), False,
                            align='center'),
        class_specific_mask(square, one_hot, (64, 64), False), atol=1e-6)
    tall = torch.rand(1, 1, 5, 6, generator=g)
    center = class_specific_mask(tall, one_hot, (70, 96), False,
                                 align='center')
    resize = class_specific_mask(tall, one_hot, (70, 96), False)
    assert center.shape == resize.shape == (1, 1, 70, 96)
    assert not torch.allclose(center, resize, atol=1e-3)
