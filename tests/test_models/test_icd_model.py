"""The ICD model (mmwsss.models.classifiers.icd) and DeepLab's VGG16 on the
tiny config: shapes, where each loss's gradient goes, the sign state, the
warm-up read from the MessageHub, CAM-format predictions."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmwsss.models.utils.icd import exp_warmup
from mmwsss.registry import MODELS
from mmwsss.utils.errors import ConfigError
from tests.conftest import REPO

TINY = osp.join(REPO, 'configs', 'icd', 'icd_tiny_synthetic.py')


def build(**overrides):
    init_default_scope('mmwsss')
    cfg = Config.fromfile(TINY).model
    cfg.update(overrides)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(b=4, size=64, num_classes=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(b, 3, size, size, generator=gen)
    samples = []
    for i in range(b):
        ds = SegDataSample()
        label = torch.zeros(num_classes)
        label[i % num_classes] = 1
        if i == b - 1:
            label[(i + 1) % num_classes] = 1  # one multi-label image
        ds.gt_label = label
        ds.gt_superpixels = PixelData(
            data=torch.randint(0, 65, (1, size, size), generator=gen))
        ds.set_metainfo(dict(img_shape=(size - 4, size), ori_shape=(size - 4,
                                                                    size)))
        samples.append(ds)
    return inputs, samples


@pytest.fixture(autouse=True)
def fresh_hub():
    """No training-loop info leaks between tests."""
    hub = MessageHub.get_instance('test_icd')
    hub.runtime_info.clear()
    yield


def test_vgg16_layout_and_output_stride():
    init_default_scope('mmwsss')
    full = MODELS.build(dict(type='DeepLabVGG16'))
    n = sum(p.numel() for p in full.parameters())
    assert 20.4e6 < n < 20.6e6  # the "20M" VGG16 with 1024-d fc6/fc7
    assert full.fc6.kernel_size == (3, 3) and full.fc6.dilation == (1, 1)
    assert full.conv5_1.dilation == (2, 2)
    tiny = MODELS.build(dict(type='DeepLabVGG16', width_mult=0.125,
                             norm=True)).eval()
    with torch.no_grad():
        conv5, fc7 = tiny(torch.zeros(1, 3, 321, 321))
    assert conv5.shape == (1, 64, 41, 41) and fc7.shape == (1, 128, 41, 41)
    with torch.no_grad():
        conv5, _ = tiny(torch.zeros(1, 3, 513, 513))
    assert conv5.shape[-2:] == (65, 65)


def test_pretrained_missing_names_the_key(tmp_path):
    model = build()
    model.pretrained = str(tmp_path / 'vgg16_20M.pth')
    with pytest.raises(FileNotFoundError, match='model.pretrained') as err:
        model.init_weights()
    assert '20M' in str(err.value)  # names what the file is


def test_pretrained_loads_by_layer_name_and_seeds_fc6_ft(tmp_path):
    model = build()
    state = {k: torch.full_like(v, 0.5)
             for k, v in model.backbone.state_dict().items()}
    path = str(tmp_path / 'vgg.pth')
    torch.save(state, path)
    model.pretrained = path
    model.init_weights()
    assert torch.all(model.backbone.conv1_1.weight == 0.5)
    # fc6_ft / fc7_ft start as copies of the (pretrained) fc6 / fc7
    assert torch.equal(model.fc6_ft.weight, model.backbone.fc6.weight)
    assert torch.equal(model.fc7_ft.bias, model.backbone.fc7.bias)
    assert torch.all(model.td_head.weight.abs() < 0.1)  # N(0, 0.01)


def test_loss_terms_and_their_gradients():
    model = build().train()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_cls', 'loss_bu', 'loss_td', 'td_weight'}
    assert losses['td_weight'].item() == 1.0  # outside a runner
    assert losses['loss_bu'].item() < 0

    def grads(term):
        model.zero_grad(set_to_none=True)
        model.loss(inputs, samples)[term].backward()
        return {n for n, p in model.named_parameters() if p.grad is not None
                and p.grad.abs().sum() > 0}

    # the bottom-up loss trains the directions only
    assert grads('loss_bu') == {'bu_weight'}
    td = grads('loss_td')
    assert {'td_head.weight', 'fc6_ft.weight', 'fc7_ft.weight',
            'feat_bn.bias', 'backbone.conv1_1.weight'} <= td
    assert not td & {'bu_weight', 'head.weight', 'backbone.fc6.weight'}
    assert 'feat_bn.weight' not in td  # γ fixed at 1
    cls = grads('loss_cls')
    assert 'head.weight' in cls and 'backbone.fc7.weight' in cls
    assert not cls & {'bu_weight', 'td_head.weight', 'fc6_ft.weight'}


def test_cam_loss_is_the_sum_over_classes():
    model = build().eval()
    inputs, samples = batch()
    with torch.no_grad():
        logits = model._forward(inputs)[0]
        labels = torch.stack([s.gt_label for s in samples])
        want = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, labels, reduction='sum') / len(inputs)
        assert model.loss(inputs, samples)['loss_cls'].item() == \
            pytest.approx(want.item(), rel=1e-5)


def test_sign_state_moves_in_training_only():
    model = build()
    inputs, samples = batch()
    model.eval()
    with torch.no_grad():
        model.loss(inputs, samples)
    assert torch.all(model.sign_state == 0)
    model.train()
    with torch.no_grad():
        model.loss(inputs, samples)
    labelled = torch.stack([s.gt_label for s in samples]).sum(0) > 0
    assert torch.all(model.sign_state[labelled].sum(1) > 0)
    assert 'sign_state' in model.state_dict()


def test_warmup_from_the_message_hub():
    model = build(warmup_epochs=2)
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', 100)
    hub.update_info('max_epochs', 10)  # 10 iterations per epoch -> R = 20
    for step in (0, 7, 19, 20, 55):
        hub.update_info('iter', step)
        assert model.warmup_weight() == pytest.approx(exp_warmup(step, 20))
    model = build(warmup_iters=5)
    hub.update_info('iter', 2)
    assert model.warmup_weight() == pytest.approx(exp_warmup(2, 5))
    inputs, samples = batch()
    assert model.loss(inputs, samples)['td_weight'].item() == \
        pytest.approx(exp_warmup(2, 5))


def test_missing_superpixels_or_sizes_are_refused():
    model = build().train()
    inputs, samples = batch()
    del samples[1].gt_superpixels
    with pytest.raises(KeyError, match='LoadSuperpixels'):
        model.loss(inputs, samples)
    inputs, samples = batch()
    samples[0].gt_superpixels = PixelData(data=torch.zeros(1, 32, 64))
    with pytest.raises(ValueError, match='fixed-size crops'):
        model.loss(inputs, samples)


def test_predict_writes_cam_format_maps():
    model = build().eval()
    inputs, samples = batch(b=2)
    with torch.no_grad():
        out = model.predict(inputs, samples)
    for ds, sample in zip(out, samples):
        keys = torch.nonzero(sample.gt_label).flatten()
        assert ds.cam_keys.tolist() == (keys + 1).tolist()
        assert ds.cams.shape == (len(keys), 60, 64)
        assert 0 <= ds.cams.min() and ds.cams.max() <= 1
        assert ds.cams_coarse.shape == (len(keys), 15, 16)
        assert ds.pred_score.shape == (6, )


def test_predict_maps_are_the_top_down_logits():
    model = build(test_cfg=dict(scales=(1.0, ), flip=False, stride=8,
                                align='corner', coarse_align='corner',
                                coarse_stride=None)).eval()
    inputs, samples = batch(b=1)
    with torch.no_grad():
        maps, logits, coarse = model.predict_cams(inputs, samples)
        _, cams, td = model._forward(inputs)
    assert coarse is None
    # scale 1, 'corner': cell i at pixel 8i
    assert torch.allclose(maps[..., ::8, ::8], td.relu(), atol=1e-5)
    assert torch.allclose(logits, cams.mean((2, 3)), atol=1e-6)
    model.test_cfg['maps'] = 'cam'
    with torch.no_grad():
        maps, _, _ = model.predict_cams(inputs, samples)
    assert torch.allclose(maps[..., ::8, ::8], cams.relu(), atol=1e-5)


def test_predict_pads_to_the_canvas_and_crops():
    model = build(test_cfg=dict(scales=(1.0, ), flip=False, stride=8,
                                align='resize', coarse_align='resize',
                                pad_to=96)).eval()
    inputs, samples = batch(b=1)
    with torch.no_grad():
        maps, _, coarse = model.predict_cams(inputs, samples)
        padded = torch.nn.functional.pad(inputs, (0, 32, 0, 32))
        td = model.forward_td(padded)
    assert maps.shape[-2:] == (64, 64) and coarse.shape[-2:] == (16, 16)
    full = torch.nn.functional.interpolate(td.relu(), size=(96, 96),
                                           mode='bilinear',
                                           align_corners=False)
    assert torch.allclose(maps, full[..., :64, :64], atol=1e-5)


def test_bad_test_cfg_is_refused():
    with pytest.raises(ConfigError, match='maps'):
        build(test_cfg=dict(maps='bu'))
    with pytest.raises(ConfigError, match='cam_mode'):
        build(test_cfg=dict(cam_mode=dict(type='AdvCAM')))
    with pytest.raises(KeyError, match='pad_too'):
        build(test_cfg=dict(pad_too=3))
