
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from mmwsss.registry import MODELS
from tests.conftest import tiny_backbone, tiny_cam_model


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmwsss')


def _batch(b=2, h=48, w=64, c=6):
    inputs = [torch.randint(0, 255, (3, h, w), dtype=torch.uint8)
              for _ in range(b)]
    samples = []
    for i in range(b):
        ds = SegDataSample()
        label = torch.zeros(c)
        label[i % c] = 1
        label[(i + 2) % c] = 1
        ds.set_data(dict(gt_label=label))
        ds.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w)))
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


def test_forward_shapes_and_loss():
    model = MODELS.build(tiny_cam_model())
    data = model.data_preprocessor(_batch(), True)
    logits, cams = model(data['inputs'], mode='tensor')
    assert logits.shape == (2, 6)
    assert cams.shape == (2, 6, 3, 4)  # output stride 16
    assert torch.allclose(logits, cams.mean(dim=(2, 3)))
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_cls'} and losses['loss_cls'].ndim == 0
    assert model.head.bias is None


def test_predict_tta_cams_for_labelled_classes():
    model = MODELS.build(tiny_cam_model()).eval()
    batch = _batch(b=1, h=40, w=56)
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        out = model(**data, mode='predict')[0]
    assert out.cams.shape == (2, 40, 56)
    assert out.cam_keys.tolist() == [1, 3]
    assert float(out.cams.min()) >= 0 and float(out.cams.max()) <= 1
    assert out.pred_score.shape == (6, )


def test_predict_without_labels_uses_predicted_classes():
    model = MODELS.build(
        tiny_cam_model(test_cfg=dict(scales=(1.0, ), pred_threshold=0.0)))
    model.eval()
    batch = _batch(b=1)
    batch['data_samples'][0] = SegDataSample(
        metainfo=dict(img_shape=(48, 64)))
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        out = model(**data, mode='predict')[0]
    assert out.cam_keys.tolist() == [1, 2, 3, 4, 5, 6]  # every score > 0


def test_unknown_test_cfg_key_is_rejected():
    with pytest.raises(KeyError, match='scale'):
        MODELS.build(tiny_cam_model(test_cfg=dict(scale=(1.0, ))))


def test_unknown_model_argument_is_rejected():
    with pytest.raises(TypeError, match='num_clases'):
        MODELS.build(dict(tiny_cam_model(), num_clases=3))


def test_freeze_bn_keeps_statistics_and_params():
    model = MODELS.build(tiny_cam_model(freeze_bn=True))
    model.train()
    bn = model.backbone.bn1
    assert not bn.training and not bn.weight.requires_grad
    before = bn.running_mean.clone()
    data = model.data_preprocessor(_batch(), True)
    model(**data, mode='loss')['loss_cls'].backward()
    assert torch.equal(bn.running_mean, before)
    assert bn.weight.grad is None


def test_frozen_modules_stem():
    model = MODELS.build(
        tiny_cam_model(frozen_modules=('backbone.conv1', 'backbone.bn1')))
    model.train()
    assert not model.backbone.conv1.weight.requires_grad
    assert not model.backbone.bn1.training
    assert model.backbone.layer1[0].conv1.weight.requires_grad
    with pytest.raises(KeyError, match='matches no'):
        MODELS.build(tiny_cam_model(frozen_modules=('backbone.stem9', )))


def test_missing_pretrained_file_names_config_key(tmp_path):
    model = MODELS.build(
        tiny_cam_model(pretrained=str(tmp_path / 'nope.pth')))
    with pytest.raises(FileNotFoundError, match='model.pretrained'):
        model.init_weights()


def test_pnoc_missing_weights_name_the_generator_key(tmp_path):
    """A P-NOC model has no ``pretrained`` (setting it is a TypeError): the
    message names the key that exists, and which file is expected."""
    path = str(tmp_path / 'resnest269-0cc87c48.pth')
    model = MODELS.build(
        dict(type='PNOC', generator=tiny_cam_model(pretrained=path),
             noc=tiny_cam_model(), noc_checkpoint=None))
    with pytest.raises(FileNotFoundError) as e:
        model.init_weights()
    msg = str(e.value)
    assert '--cfg-options model.generator.pretrained=PATH' in msg
    assert path in msg and 'official ResNeSt-269 ImageNet release' in msg


def test_torchvision_resnet_weights_load_into_mmpretrain_resnet(tmp_path):
    torchvision = pytest.importorskip('torchvision')
    ref = torchvision.models.resnet18(weights=None)
    path = str(tmp_path / 'resnet18.pth')
    torch.save(ref.state_dict(), path)
    cfg = tiny_cam_model(pretrained=path, in_channels=512)
    cfg['backbone'] = dict(tiny_backbone(), stem_channels=64,
                           base_channels=64)
    model = MODELS.build(cfg)
    model.init_weights()
    assert torch.equal(model.backbone.conv1.weight, ref.conv1.weight)
    assert torch.equal(model.backbone.layer4[1].bn2.running_var,
                       ref.layer4[1].bn2.running_var)


def test_official_resnest_layout_loads_into_timm_backbone(tmp_path):
    """A full classification checkpoint (with fc, wrapped in state_dict) of
    the ResNeSt family loads into the features-only OS16 timm backbone."""
    timm = pytest.importorskip('timm')
    ref = timm.create_model('resnest14d', pretrained=False)
    path = str(tmp_path / 'resnest14d.pth')
    torch.save(dict(state_dict=ref.state_dict()), path)
    cfg = tiny_cam_model(pretrained=path, in_channels=2048)
    cfg['backbone'] = dict(
        type='TIMMBackbone', model_name='resnest14d', features_only=True,
        pretrained=False, output_stride=16, out_indices=(4, ))
    model = MODELS.build(cfg)
    model.init_weights()
    got = model.backbone.timm_model.layer1[0].conv2.conv.weight
    assert torch.equal(got, ref.layer1[0].conv2.conv.weight)
    data = model.data_preprocessor(_batch(b=2, h=64, w=64), True)
    _, cams = model(data['inputs'], mode='tensor')
    assert cams.shape[-2:] == (4, 4)  # output stride 16


def test_mismatching_checkpoint_is_an_error(tmp_path):
    path = str(tmp_path / 'other.pth')
    torch.save({'foo.weight': torch.zeros(3)}, path)
    model = MODELS.build(tiny_cam_model(pretrained=path))
    with pytest.raises(ValueError, match='none of the 1 tensors'):
        model.init_weights()


def test_predict_keeps_the_stride4_cams_of_every_scale():
    """test_cfg.coarse_stride=4: ``cams_coarse`` (K×⌈H/4⌉×⌈W/4⌉) is the sum
    over TTA scales of each scale's maps resampled to the stride-4 grid,
    max-normalised per class; None switches it off."""
    from mmwsss.models.utils import multi_scale_flip_forward
    from mmwsss.utils.cam_utils import normalize_cam
    model = MODELS.build(tiny_cam_model()).eval()
    batch = _batch(b=1, h=42, w=57)
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        out = model(**data, mode='predict')[0]
        cfg = model.test_cfg
        _, coarse = multi_scale_flip_forward(
            model.forward_cam, data['inputs'], scales=cfg['scales'],
            flip=cfg['flip'], stride=cfg['stride'], align=cfg['align'],
            resize=model.tta_resize(), out_stride=4,
            coarse_align=cfg['coarse_align'])
    assert out.cams_coarse.shape == (2, 11, 15)
    assert out.coarse_stride == 4
    expected = normalize_cam(coarse[0, out.cam_keys - 1])
    assert torch.allclose(out.cams_coarse, expected, atol=1e-6)
    off = MODELS.build(tiny_cam_model(test_cfg=dict(coarse_stride=None)))
    with torch.no_grad():
        out = off.eval()(**off.data_preprocessor(_batch(b=1), False),
                         mode='predict')[0]
    assert 'cams_coarse' not in out


def test_pil_resize_needs_the_normalisation():
    """resize='pil' un-normalises with the data preprocessor's mean/std; a
    classifier without them (inside P-NOC) gets them from the wrapper."""
    cfg = tiny_cam_model()
    cfg.pop('data_preprocessor', None)
    bare = MODELS.build(cfg)
    with pytest.raises(ValueError, match="resize='pil'"):
        bare.tta_resize()
    bare.set_tta_normalisation([1, 2, 3], [4, 5, 6])
    resize = bare.tta_resize()
    assert resize.mean.flatten().tolist() == [1, 2, 3]
    tensor = MODELS.build(tiny_cam_model(test_cfg=dict(resize='tensor')))
    from mmwsss.models.utils import resize_image
    assert tensor.tta_resize() is resize_image
