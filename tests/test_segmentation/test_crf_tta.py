"""CRFSegTTAModel: averaging like SegTTAModel, then dense-CRF refinement."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.structures import SegDataSample
from PIL import Image
from torch import nn

from mmwsss.models.segmentors import CRFSegTTAModel
from mmwsss.registry import MODELS


class FakeSegmentor(nn.Module):
    """Stands in for a segmentor: ``test_step`` is never called here."""

    def __init__(self, out_channels: int) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.decode_head = nn.Module()
        self.decode_head.threshold = 0.5

    def test_step(self, data):  # pragma: no cover - required by the wrapper
        raise NotImplementedError


def sample(logits: torch.Tensor, img_path: str) -> SegDataSample:
    s = SegDataSample(metainfo=dict(img_path=img_path))
    s.seg_logits = PixelData(data=logits)
    s.gt_sem_seg = PixelData(data=torch.zeros(1, *logits.shape[1:]).long())
    return s


@pytest.fixture
def two_region_image(tmp_path):
    """A 32×32 image: left half black, right half white."""
    img = np.zeros((32, 32, 3), np.uint8)
    img[:, 16:] = 255
    path = str(tmp_path / 'img.png')
    Image.fromarray(img).save(path)
    return path


def noisy_logits(seed: int) -> torch.Tensor:
    """2-class logits that favour the right class per half, with 10 % of
    the pixels flipped to the wrong one."""
    g = torch.Generator().manual_seed(seed)
    target = torch.zeros(32, 32, dtype=torch.long)
    target[:, 16:] = 1
    flip = torch.rand(32, 32, generator=g) < 0.1
    noisy = torch.where(flip, 1 - target, target)
    return torch.stack([(noisy == 0).float(), (noisy == 1).float()]) * 2


def test_without_crf_matches_stock_seg_tta(two_region_image):
    augs = [[sample(noisy_logits(s), two_region_image) for s in (0, 1)]]
    ours = CRFSegTTAModel(FakeSegmentor(2), crf=None).merge_preds(augs)[0]
    stock = SegTTAModel(FakeSegmentor(2)).merge_preds(augs)[0]
    assert torch.equal(ours.pred_sem_seg.data.squeeze(0),
                       stock.pred_sem_seg.data.squeeze(0))
    probs = ours.seg_logits.data
    assert torch.allclose(probs.sum(0), torch.ones(32, 32))
    assert 'gt_sem_seg' in ours


def test_crf_removes_noise_along_image_edges(two_region_image):
    augs = [[sample(noisy_logits(0), two_region_image)]]
    plain = CRFSegTTAModel(FakeSegmentor(2), crf=None).merge_preds(augs)[0]
    refined = CRFSegTTAModel(FakeSegmentor(2)).merge_preds(augs)[0]
    target = torch.zeros(32, 32, dtype=torch.long)
    target[:, 16:] = 1
    plain_acc = (plain.pred_sem_seg.data[0] == target).float().mean()
    crf_acc = (refined.pred_sem_seg.data[0] == target).float().mean()
    assert plain_acc < 0.95
    assert crf_acc > 0.99
    assert torch.allclose(refined.seg_logits.data.sum(0),
                          torch.ones(32, 32), atol=1e-4)


def test_binary_head_gets_two_channel_probs(two_region_image):
    logit = torch.full((1, 32, 32), -3.0)
    logit[:, :, 16:] = 3.0
    out = CRFSegTTAModel(FakeSegmentor(1)).merge_preds(
        [[sample(logit, two_region_image)]])[0]
    assert out.seg_logits.data.shape == (2, 32, 32)
    assert out.pred_sem_seg.data[0, :, 20:].all()
    assert not out.pred_sem_seg.data[0, :, :12].any()


def test_size_mismatch_names_the_image(two_region_image):
    model = CRFSegTTAModel(FakeSegmentor(2))
    with pytest.raises(ValueError, match='img.png'):
        model.merge_preds([[sample(torch.zeros(2, 8, 8), two_region_image)]])


def test_built_from_the_mmseg_scope():
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):
        from mmseg.registry import MODELS as MMSEG_MODELS
        model = MMSEG_MODELS.build(
            dict(type='mmwsss.CRFSegTTAModel', module=FakeSegmentor(2)))
    assert isinstance(model, CRFSegTTAModel)
    assert MODELS.get('CRFSegTTAModel') is CRFSegTTAModel
