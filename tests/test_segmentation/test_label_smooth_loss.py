"""LabelSmoothCrossEntropyLoss: torch's label-smoothed cross-entropy with
ignore_index, as a stock MMSeg decode-head loss."""
import pytest
import torch
import torch.nn as nn

from mmwsss.models.losses import LabelSmoothCrossEntropyLoss


def _batch(seed=0, classes=5):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, classes, 6, 7, generator=gen, requires_grad=True)
    label = torch.randint(0, classes, (2, 6, 7), generator=gen)
    label[0, :3] = 255
    return logits, label


@pytest.mark.parametrize('alpha', [0.0, 0.1, 0.3])
def test_matches_torch_cross_entropy(alpha):
    logits, label = _batch()
    ours = LabelSmoothCrossEntropyLoss(label_smoothing=alpha)(logits, label)
    ref = nn.CrossEntropyLoss(ignore_index=255,
                              label_smoothing=alpha)(logits, label)
    assert torch.allclose(ours, ref, atol=1e-6)
    # the smoothing changes the loss (the test sees the parameter)
    if alpha:
        plain = nn.CrossEntropyLoss(ignore_index=255)(logits, label)
        assert not torch.allclose(ours, plain)


def test_weight_ignore_index_and_loss_weight():
    logits, label = _batch(1)
    loss = LabelSmoothCrossEntropyLoss(0.1, loss_weight=0.4)
    full = loss(logits, label)
    assert torch.allclose(
        full, 0.4 * LabelSmoothCrossEntropyLoss(0.1)(logits, label))
    # zero weight on image 1: only image 0's labelled pixels count, still
    # divided by every labelled pixel (mean over the labelled pixels)
    weight = torch.ones(label.shape)
    weight[1] = 0
    part = LabelSmoothCrossEntropyLoss(0.1)(logits, label, weight=weight)
    per_pixel = nn.CrossEntropyLoss(ignore_index=255, label_smoothing=0.1,
                                    reduction='none')(logits, label)
    assert torch.allclose(part,
                          per_pixel[0].sum() / (label != 255).sum())
    # another ignore value
    label2 = label.clone()
    label2[label2 == 255] = 0
    label2[1, 0] = 4
    ref = nn.CrossEntropyLoss(ignore_index=4, label_smoothing=0.1)
    assert torch.allclose(
        LabelSmoothCrossEntropyLoss(0.1)(logits, label2, ignore_index=4),
        ref(logits, label2))


def test_no_labelled_pixel_gives_zero_not_nan():
    logits, label = _batch(2)
    label[:] = 255
    loss = LabelSmoothCrossEntropyLoss(0.1)(logits, label)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.count_nonzero(logits.grad) == 0


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='label_smoothing'):
        LabelSmoothCrossEntropyLoss(1.0)
    with pytest.raises(ValueError, match='loss_name'):
        LabelSmoothCrossEntropyLoss(0.1, loss_name='ce')


def test_builds_in_a_stock_mmseg_head_and_drives_its_loss():
    """mmseg's registry finds it by its scoped name; the head's loss dict
    carries it under its loss_name."""
    from mmengine.registry import DefaultScope
    from mmseg.models.decode_heads import FCNHead
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData

    import mmwsss  # noqa: F401  (registers the loss)
    with DefaultScope.overwrite_default_scope('mmseg'):
        head = FCNHead(
            in_channels=4, channels=4, num_convs=1, num_classes=3,
            loss_decode=dict(type='mmwsss.LabelSmoothCrossEntropyLoss',
                             label_smoothing=0.1, loss_name='loss_ls'))
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, 3, (1, 16, 16)))
        samples.append(sample)
    losses = head.loss([torch.randn(2, 4, 4, 4)], samples, None)
    assert set(losses) == {'loss_ls', 'acc_seg'}
    assert torch.isfinite(losses['loss_ls'])
