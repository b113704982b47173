"""AdvCAM as a CAM inference mode (README: AdvCAM) on tiny randomly
initialised models: the climb, the regulariser, batching over classes, the
value range, the registry, and the plain mode left as it was."""
import copy
import glob
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from mmwsss.utils.cam_io import read_cam
from mmwsss.models.cam_modes import (CAM_MODES, AdvCAM, PlainCAM,
                                     build_cam_mode, reduced_iterations)
from mmwsss.models.utils import multi_scale_flip_forward, normalised_ascent
from mmwsss.registry import MODELS
from mmwsss.utils.cam_utils import normalize_cam
from mmwsss.utils.errors import ConfigError
from tests.conftest import REPO, data_opts, load_tool, tiny_cam_model

ADVCAM_CONFIG = osp.join(REPO, 'configs', 'woods', 'advcam_tiny_synthetic.py')
CAM_CONFIG = osp.join(REPO, 'configs', 'cam', 'cam_tiny_synthetic.py')


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmwsss')


def build(seed: int = 0, **test_cfg) -> torch.nn.Module:
    """A tiny random CAM classifier (6 classes) in eval mode."""
    torch.manual_seed(seed)
    cfg = dict(scales=(1.0, 0.5), flip=True, stride=16)
    cfg.update(test_cfg)
    return MODELS.build(tiny_cam_model(test_cfg=cfg)).eval()


def batch(model, classes=(1, 3, 4), h=40, w=56, seed=1,
          num_classes: int = 6) -> dict:
    """One random image labelled with ``classes`` (0-based), preprocessed
    by ``model``."""
    gen = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 255, (3, h, w), dtype=torch.uint8, generator=gen)
    ds = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
    label = torch.zeros(num_classes)
    label[list(classes)] = 1
    ds.set_data(dict(gt_label=label))
    return model.data_preprocessor(dict(inputs=[img], data_samples=[ds]),
                                   False)


def predict(model, data) -> SegDataSample:
    """The first prediction, on a copy (predict fills the samples in
    place)."""
    with torch.no_grad():  # as mmengine's test loop
        return model(**copy.deepcopy(data), mode='predict')[0]


def advcam(**kwargs) -> dict:
    return dict(type='AdvCAM', **kwargs)


class Recorder:
    """Forward hooks: the inputs the backbone sees and the head's maps."""

    def __init__(self, model) -> None:
        self.inputs, self.maps = [], []
        model.backbone.register_forward_pre_hook(
            lambda mod, args: self.inputs.append(args[0].detach().clone()))
        model.head.register_forward_hook(
            lambda mod, args, out: self.maps.append(out.detach().clone()))


# ------------------------------------------------------------ the climb
def test_advcam_raises_the_target_logit_and_keeps_shapes():
    model = build(cam_mode=advcam(iterations=8), scales=(1.0, ))
    data = batch(model, classes=(2, ))
    plain = predict(build(scales=(1.0, )), data)
    rec = Recorder(model)
    out = predict(model, data)
    # the keys' logits pass, then 8 iterations of one image pair
    assert len(rec.maps) == 9
    z = [F.relu(m).mean(dim=(-2, -1)).sum(0) for m in rec.maps[1:]]
    target = torch.stack([v[2] for v in z])
    margin = torch.stack([2 * v[2] - v.sum() for v in z])
    assert target[-1] > target[0] * 1.2, target
    assert margin[-1] > margin[0], margin
    assert (margin[1:] >= margin[:-1] - 1e-4).float().mean() > 0.8, margin
    # the same outputs as the plain CAM: keys, shapes, range
    assert out.cam_keys.tolist() == plain.cam_keys.tolist() == [3]
    assert out.cams.shape == plain.cams.shape == (1, 40, 56)
    assert out.cams_coarse.shape == plain.cams_coarse.shape == (1, 10, 14)
    assert out.metainfo['coarse_stride'] == 4
    assert torch.equal(out.pred_score, plain.pred_score)
    assert 0 <= float(out.cams.min()) and float(out.cams.max()) <= 1
    assert float(out.cams.max()) > 0.99
    assert not torch.allclose(out.cams, plain.cams, atol=0.05)


def test_one_iteration_single_view_is_the_plain_cam():
    """GradCAM of the sum-pooled ReLU map on the features that feed a 1x1
    head is the class's ReLU CAM times a positive constant, so with T = 1,
    one scale and no flip AdvCAM equals the plain CAM after normalisation:
    a check of the GradCAM weights."""
    cfg = dict(scales=(1.0, ), flip=False)
    data = batch(build(**cfg))
    plain = predict(build(**cfg), data)
    adv = predict(build(cam_mode=advcam(iterations=1), **cfg), data)
    assert torch.allclose(adv.cams, plain.cams, atol=1e-5)
    assert torch.allclose(adv.cams_coarse, plain.cams_coarse, atol=1e-5)


def test_coarse_align_places_the_stride4_maps():
    """test_cfg.coarse_align moves the stride-4 maps only, as for plain
    CAMs."""
    data = batch(build())
    outs = [predict(build(cam_mode=advcam(iterations=2), coarse_align=a),
                    data) for a in ('resize', 'corner')]
    assert torch.equal(outs[0].cams, outs[1].cams)
    assert not torch.allclose(outs[0].cams_coarse, outs[1].cams_coarse,
                              atol=1e-3)


def test_image_stays_within_its_value_range_and_moves():
    model = build(cam_mode=advcam(iterations=6, step=0.5), scales=(1.0, ))
    data = batch(model, classes=(0, 5))
    rec = Recorder(model)
    predict(model, data)
    first, steps = rec.inputs[1], rec.inputs[2:]
    assert first.shape[0] == 4  # 2 classes x (image, flip)
    for group in range(2):
        start = first[2 * group:2 * group + 2]
        lo, hi = start.min(), start.max()
        for x in steps:
            pair = x[2 * group:2 * group + 2]
            assert float(pair.min()) >= float(lo)
            assert float(pair.max()) <= float(hi)
        assert (steps[-1][2 * group:2 * group + 2] - start).abs().max() > 0.4


def test_normalised_ascent_per_group():
    x = torch.tensor([[0.0, 1.0], [0.5, 0.5], [-2.0, 2.0], [0.0, 0.0]])
    grad = torch.tensor([[1.0, -4.0], [2.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    out = normalised_ascent(x, grad, 0.1, groups=2)
    # group 0: max|g| = 4, bounds [0, 1]
    assert torch.allclose(out[:2], torch.tensor([[0.025, 0.9], [0.55, 0.5]]))
    assert torch.equal(out[2:], x[2:])  # zero gradient: unchanged
    # one group: the bounds and the scale of the whole batch
    whole = normalised_ascent(x, grad, 0.1)
    assert torch.allclose(whole[0], torch.tensor([0.025, 0.9]))
    with pytest.raises(ValueError, match='3 equal groups'):
        normalised_ascent(x, grad, 0.1, groups=3)


def test_gradcam_weights_by_hand():
    """w_k = sum_p grad / #(grad > 0) with the count over the whole flip
    pair; the flipped view's map is flipped back and added."""
    weight = torch.tensor([1.0, -1.0]).view(1, 2, 1, 1)  # C = 1, K = 2
    feats = torch.tensor([[[[2.0, 1.0]], [[1.0, 3.0]]],    # CAM [1, -2]
                          [[[3.0, 3.0]], [[1.0, 1.0]]]])   # CAM [2, 2]
    feats.requires_grad_(True)
    active = F.relu(F.conv2d(feats, weight))
    # 3 positive gradients in the pair: (view 0, k 0, p 0), (view 1, k 0, *)
    # view 0: relu(1/3 [2, 1] - 1/3 [1, 3]) = [1/3, 0]
    # view 1: relu(2/3 [3, 3] - 2/3 [1, 1]) = [4/3, 4/3]
    maps = AdvCAM._gradcam(feats, active, torch.zeros(2, 1, dtype=torch.long),
                           n=1, views=2)
    assert torch.allclose(maps, torch.tensor([[[5 / 3, 4 / 3]]]))
    one = feats[:1].detach().requires_grad_(True)  # its own count: 1
    single = AdvCAM._gradcam(one, F.relu(F.conv2d(one, weight)),
                             torch.zeros(1, 1, dtype=torch.long), 1, 1)
    assert torch.allclose(single, torch.tensor([[[1.0, 0.0]]]))


# ------------------------------------------------------- the regulariser
def test_regulariser_zero_at_start_and_penalises_activated_changes():
    mode = AdvCAM(score_th=0.5)
    start = torch.tensor([[[0.0, 0.2, 0.4], [0.6, 1.0, 0.1]]])
    assert float(mode.regulariser(start, start)) == 0.0
    now = start.clone().requires_grad_(True)
    with torch.no_grad():
        now[0, 0, 0] += 0.3  # 0.3: not activated (< 0.5 of max 1.0)
        now[0, 1, 0] += 0.2  # 0.8: activated
        now[0, 1, 1] -= 0.1  # 0.9: activated, the new maximum
    reg = mode.regulariser(now, start)
    assert torch.allclose(reg, torch.tensor([0.3]))
    reg.sum().backward()
    grad = torch.zeros_like(start)
    grad[0, 1, 0], grad[0, 1, 1] = 1.0, -1.0  # sign of the change, masked
    assert torch.equal(now.grad, grad)
    # per class: a batch of two maps gives two penalties
    two = mode.regulariser(torch.cat([now, now]).detach(),
                           torch.cat([start, now.detach()]))
    assert torch.allclose(two, torch.tensor([0.3, 0.0]))


def test_regularisation_changes_the_maps():
    """The term is wired into the climb. (GradCAM maps are small: their
    weights are divided by the count of positive gradients, so on this
    random model reg = 7 moves the maps by ~5e-4 only.)"""
    data = batch(build())
    maps = [predict(build(cam_mode=advcam(iterations=5, reg=r)), data).cams
            for r in (0.0, 7.0, 100.0)]
    assert not torch.allclose(maps[0], maps[1], atol=1e-4)
    assert not torch.allclose(maps[0], maps[2], atol=5e-3)


# ------------------------------------------------------------- batching
def test_batched_classes_equal_one_class_at_a_time():
    data = batch(build(), classes=(0, 2, 3, 5))
    outs = {cb: predict(build(cam_mode=advcam(iterations=5, class_batch=cb)),
                        data) for cb in (None, 3, 1)}
    ref = outs[1]
    assert ref.cam_keys.tolist() == [1, 3, 4, 6]
    for cb in (None, 3):
        assert torch.allclose(outs[cb].cams, ref.cams, atol=1e-5)
        assert torch.allclose(outs[cb].cams_coarse, ref.cams_coarse,
                              atol=1e-5)


def test_batch_of_images_equals_single_images():
    model = build(cam_mode=advcam(iterations=3), coarse_stride=None)
    a, b = batch(model, (1, ), seed=1), batch(model, (0, 4), seed=2)
    both = dict(inputs=torch.cat([a['inputs'], b['inputs']]),
                data_samples=a['data_samples'] + b['data_samples'])
    with torch.no_grad():
        outs = model(**copy.deepcopy(both), mode='predict')
    for single, joint in zip((predict(model, a), predict(model, b)), outs):
        assert joint.cam_keys.tolist() == single.cam_keys.tolist()
        assert torch.allclose(joint.cams, single.cams, atol=1e-5)
        assert 'cams_coarse' not in joint


# ---------------------------------------------------- schedule and quirk
def test_reduced_scale_schedule_and_weight_leak():
    assert reduced_iterations(27) == (13, 2.0)
    assert reduced_iterations(8) == (5, 1.0)
    assert reduced_iterations(4) == (4, 1.0)
    scales = (1.0, 0.5, 1.5, 2.0)
    assert AdvCAM().schedule(scales) == [(1.0, 27, 2.0), (0.5, 13, 2.0),
                                         (1.5, 27, 2.0), (2.0, 27, 2.0)]
    assert AdvCAM(weight_leak=False).schedule(scales) == [
        (1.0, 27, 1.0), (0.5, 13, 2.0), (1.5, 27, 1.0), (2.0, 27, 1.0)]
    assert AdvCAM().schedule((1.0, 1.5)) == [(1.0, 27, 1.0), (1.5, 27, 1.0)]


def test_weight_leak_switch_changes_the_scale_weights():
    data = batch(build())
    maps = {leak: predict(build(cam_mode=advcam(iterations=12,
                                                weight_leak=leak)), data)
            for leak in (True, False)}
    assert not torch.allclose(maps[True].cams, maps[False].cams, atol=1e-3)
    # with the leak every scale is weighted x2: twice the unweighted sum
    # (not quite cancelled by the normalisation: its 1e-5 is not small
    # against GradCAM maps, as in the reference)
    leaky, uniform = AdvCAM(iterations=12), AdvCAM(iterations=12)
    uniform.schedule = lambda scales: [(s, 12 if s != 0.5 else 6, 1.0)
                                       for s in scales]
    with torch.no_grad():
        sums = [mode(build(), data['inputs'], data['data_samples'])[0]
                for mode in (leaky, uniform)]
    assert sums[1].abs().max() > 0
    assert torch.allclose(sums[0], 2 * sums[1], rtol=1e-6, atol=0)


# ----------------------------------------------------- registry and config
def test_mode_comes_from_the_registry_and_the_config():
    assert CAM_MODES.module_dict['AdvCAM'] is AdvCAM
    assert isinstance(build().cam_mode, PlainCAM)
    cfg = Config.fromfile(ADVCAM_CONFIG)
    mode_cfg = cfg.model.test_cfg.cam_mode
    assert mode_cfg.type == 'AdvCAM'
    model = MODELS.build(cfg.model)
    mode = model.cam_mode
    assert isinstance(mode, AdvCAM)
    assert (mode.iterations, mode.step, mode.reg, mode.score_th) == (
        27, 0.08, 7.0, 0.5)
    assert mode.weight_leak and mode.class_batch is None
    # the plain config keeps the plain mode
    plain = MODELS.build(Config.fromfile(CAM_CONFIG).model)
    assert isinstance(plain.cam_mode, PlainCAM)
    # a changed test_cfg entry is picked up
    plain.test_cfg['cam_mode'] = advcam(iterations=3)
    assert isinstance(plain.cam_mode, AdvCAM)
    assert plain.cam_mode.iterations == 3
    assert MODELS.build(Config.fromfile(CAM_CONFIG).model).test_cfg[
        'cam_mode'] == dict(type='PlainCAM')


def test_wrong_mode_key_or_option_is_clear():
    with pytest.raises(KeyError, match=r"model.test_cfg.cam_mode.*'AdvCaM'"
                       r".*\['AdvCAM', 'PlainCAM'\]"):
        build(cam_mode=dict(type='AdvCaM'))
    with pytest.raises(KeyError, match='unknown CAM mode type None'):
        build_cam_mode(dict(iterations=3))
    with pytest.raises(ConfigError,
                       match=r"cam_mode: AdvCAM has no option \['iteration'\]"
                       r".*'iterations'"):
        build(cam_mode=dict(type='AdvCAM', iteration=3))
    with pytest.raises(ConfigError, match=r'cam_mode \(AdvCAM\): class_batch'):
        build(cam_mode=dict(type='AdvCAM', class_batch=0))
    with pytest.raises(ValueError, match='class_batch'):
        AdvCAM(class_batch=0)
    with pytest.raises(ValueError, match='iterations'):
        AdvCAM(iterations=0)


def test_inference_mode_is_refused():
    model = build(cam_mode=advcam(iterations=2))
    data = batch(model)
    with torch.inference_mode(), pytest.raises(RuntimeError,
                                               match='no_grad'):
        model(**data, mode='predict')


def test_no_parameter_gradients_and_predicted_keys():
    """Without samples the predicted classes are refined, the others stay
    zero; no parameter receives a gradient."""
    model = build(cam_mode=advcam(iterations=2), keys='pred',
                  pred_threshold=0.49)
    data = batch(model)
    cams, logits, coarse = model.predict_cams(data['inputs'])
    assert all(p.grad is None for p in model.parameters())
    assert cams.shape == (1, 6, 40, 56) and coarse.shape == (1, 6, 10, 14)
    kept = model.class_keys(None, logits[0])
    dropped = [c for c in range(6) if c not in kept.tolist()]
    assert len(kept) and dropped
    assert float(cams[0, kept].max()) > 0
    assert float(cams[0, dropped].abs().max()) == 0


def test_pnoc_generator_runs_advcam():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pnoc',
                                   'pnoc_tiny_synthetic.py'))
    cfg.model.generator.pretrained = None
    cfg.model.noc_checkpoint = None
    cfg.model.generator.test_cfg.cam_mode = advcam(iterations=2)
    cfg.model.generator.test_cfg.scales = (1.0, )
    model = MODELS.build(cfg.model).eval()
    assert isinstance(model.inference_net().cam_mode, AdvCAM)
    out = predict(model, batch(model))
    assert out.cams.shape == (3, 40, 56)


# ------------------------------------------------------ plain mode intact
def test_plain_mode_is_the_multi_scale_flip_cam():
    model = build(scales=(1.0, 0.5, 1.5), align='corner')
    data = batch(model)
    out = predict(model, data)
    cfg = model.test_cfg
    with torch.no_grad():
        cams, coarse = multi_scale_flip_forward(
            model.forward_cam, data['inputs'], scales=cfg['scales'],
            flip=True, stride=16, align='corner', resize=model.tta_resize(),
            out_stride=4)
    keys = torch.tensor([1, 3, 4])
    assert torch.equal(out.cams, normalize_cam(cams[0, keys]))
    assert torch.equal(out.cams_coarse, normalize_cam(coarse[0, keys]))
    none = build(scales=(1.0, 0.5, 1.5), align='corner', cam_mode=None)
    assert torch.equal(predict(none, data).cams, out.cams)


def test_infer_cams_tool_writes_the_plain_format(synthetic_root, tmp_path):
    """tools/infer_cams.py with the AdvCAM config writes files with the
    keys and shapes of the plain CAMs, which eval_cams scores."""
    from mmwsss.apis import init_model
    ckpt = str(tmp_path / 'ckpt.pth')
    torch.save(dict(state_dict=init_model(CAM_CONFIG).state_dict()), ckpt)
    tool = load_tool('infer_cams')
    fast = ['model.test_cfg.scales=[1.0,0.5]']
    dirs = {}
    for name, config, extra in (
            ('plain', CAM_CONFIG, []),
            ('adv', ADVCAM_CONFIG, ['model.test_cfg.cam_mode.iterations=2'])):
        dirs[name] = str(tmp_path / name)
        assert tool.main([config, ckpt, '--out-dir', dirs[name],
                          '--work-dir', str(tmp_path / f'work_{name}'),
                          *data_opts(synthetic_root, 1, *fast, *extra)]) == 0
    files = sorted(glob.glob(osp.join(dirs['plain'], '*.npz')))
    assert files and len(files) == len(
        glob.glob(osp.join(dirs['adv'], '*.npz')))
    for path in files:
        plain = read_cam(path)
        adv = read_cam(osp.join(dirs['adv'], osp.basename(path)))
        assert adv.keys.tolist() == plain.keys.tolist()
        assert adv.cams.shape == plain.cams.shape
        assert adv.coarse.shape == plain.coarse.shape
        assert adv.coarse_stride == plain.coarse_stride == 4
    evaluate = load_tool('eval_cams')
    assert evaluate.main([ADVCAM_CONFIG, '--cam-dir', dirs['adv'],
                          '--cfg-options',
                          'test_dataloader.dataset.data_root='
                          f'{synthetic_root}']) == 0
