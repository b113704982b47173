"""The W-OoD model: the loss composition of its train_step, which
parameters the terms reach, the centre buffers (checkpoint round trip) and
its errors; inference stays the CAM classifier's."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_checkpoint, save_checkpoint
from mmseg.structures import SegDataSample

from mmwsss.models.utils import adversarial_climb
from mmwsss.registry import MODELS
from mmwsss.utils.errors import ConfigError
from tests.conftest import tiny_cam_model

FROZEN = ('backbone.conv1', 'backbone.bn1', 'backbone.layer1',
          'backbone.layer2')
C, D, K = 4, 64, 3


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmwsss')


def woods_cfg(lam=0.007, beta=0.25, **kwargs):
    cfg = tiny_cam_model(num_classes=C, **kwargs)
    cfg['backbone'] = dict(cfg['backbone'], norm_eval=True)
    cfg['loss'] = dict(type='MultiLabelSoftMarginLoss')
    cfg.update(type='WOoD', num_clusters=K, frozen_modules=FROZEN,
               metric_loss=dict(type='WOoDMetricLoss', loss_weight=lam),
               ood_loss=dict(type='OoDClassificationLoss', loss_weight=beta))
    return cfg


def build(lam=0.007, beta=0.25, centres=True, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(woods_cfg(lam, beta, **kwargs))
    if centres:
        g = torch.Generator().manual_seed(1)
        model.set_centres(torch.rand(C, D, generator=g),
                          torch.rand(K, D, generator=g))
    return model.train()


def batch(b=4, seed=0, labelled=True):
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8,
                            generator=g) for _ in range(b)]
    samples = []
    for i in range(b):
        label = torch.zeros(C)
        if labelled:
            label[i % C] = 1
            label[(i + 1) % C] = 1
        ds = SegDataSample(metainfo=dict(img_shape=(64, 64)))
        ds.set_data(dict(gt_label=label))
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


def data(b=4):
    return dict(batch(b), ood=batch(b, seed=1, labelled=False))


def frozen_sgd(model):
    """An optimizer wrapper that does not change the weights (lr 0)."""
    params = [p for p in model.parameters() if p.requires_grad]
    return OptimWrapper(torch.optim.SGD(params, lr=0.0))


def test_train_step_logs_and_sums_the_three_terms():
    model = build()
    log = {k: v.detach() for k, v in model.train_step(
        data(), frozen_sgd(model)).items()}
    for key in ('loss', 'loss_cls', 'loss_metric', 'loss_ood',
                'ood_top_prob'):
        assert key in log, key
    assert float(log['loss']) == pytest.approx(
        float(log['loss_cls'] + log['loss_metric'] + log['loss_ood']),
        rel=1e-5)
    assert float(log['loss_metric']) != 0 and float(log['loss_ood']) > 0

    # each term recomputed from its definition
    ref = build()
    pre = ref.data_preprocessor(batch(), True)
    ood = ref.data_preprocessor(batch(seed=1, labelled=False), True)['inputs']
    labels = torch.stack([s.gt_label for s in pre['data_samples']])
    with torch.no_grad():
        feats = ref.extract_feat(pre['inputs'])
        logits = ref.pool(ref.head(feats))
    bce = F.binary_cross_entropy_with_logits(logits, labels)
    assert float(log['loss_cls']) == pytest.approx(float(bce), rel=1e-5)
    metric = ref.metric_loss(feats.mean(dim=(2, 3)), labels,
                             ref.class_centres, ref.ood_centres)
    assert float(log['loss_metric']) == pytest.approx(float(metric),
                                                      rel=1e-4)
    climbed = adversarial_climb(lambda x: ref.pool(ref.forward_cam(x)),
                                ood, 0.07)
    assert not torch.equal(climbed, ood)
    with torch.no_grad():
        ood_logits = ref.pool(ref.forward_cam(climbed))
    expected = 0.25 * F.softplus(ood_logits).mean()
    assert float(log['loss_ood']) == pytest.approx(float(expected),
                                                   rel=1e-4)
    assert float(log['ood_top_prob']) == pytest.approx(
        float(ood_logits.sigmoid().amax(1).mean()), rel=1e-4)


def test_zero_weights_reduce_to_bce():
    """λ = β = 0: the loss is the CAM classifier's BCE, and neither the OoD
    batch nor the centres are needed."""
    model = build(lam=0.0, beta=0.0, centres=False)
    log = model.train_step(batch(), frozen_sgd(model))
    assert float(log['loss_metric']) == 0 and float(log['loss_ood']) == 0
    assert 'ood_top_prob' not in log

    cam_cfg = woods_cfg()
    for key in ('type', 'num_clusters', 'metric_loss', 'ood_loss'):
        cam_cfg.pop(key)
    cam = MODELS.build(dict(cam_cfg, type='CAMClassifier')).train()
    cam.load_state_dict(model.state_dict(), strict=False)
    pre = cam.data_preprocessor(batch(), True)
    bce = cam(**pre, mode='loss')['loss_cls'].detach()
    assert float(log['loss'].detach()) == pytest.approx(float(bce), rel=1e-6)
    # with an OoD batch present it is ignored
    log2 = model.train_step(data(), frozen_sgd(model))
    assert float(log2['loss'].detach()) == pytest.approx(float(bce), rel=1e-6)


def grads(model, lam, beta):
    """Parameter name -> gradient norm after one backward pass."""
    model.metric_loss.loss_weight = lam
    model.ood_loss.loss_weight = beta
    model.zero_grad()
    pre = model.data_preprocessor(batch(), True)
    ood = model.data_preprocessor(batch(seed=1, labelled=False),
                                  True)['inputs']
    losses = model.loss(pre['inputs'], pre['data_samples'], ood)
    loss = sum(v for k, v in losses.items() if k.startswith('loss'))
    loss.backward()
    return {n: (0.0 if p.grad is None else float(p.grad.norm()))
            for n, p in model.named_parameters()}


def test_gradients_reach_only_the_unfrozen_parameters():
    model = build()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(
        n.startswith(('backbone.layer3', 'backbone.layer4', 'head'))
        for n in trainable)
    for lam, beta in ((0.007, 0.25), (1.0, 0.0), (0.0, 1.0)):
        norms = grads(model, lam, beta)
        assert all(norms[n] == 0 for n in norms if n not in trainable)
        assert norms['head.weight'] > 0
        assert norms['backbone.layer3.0.conv1.weight'] > 0
        assert norms['backbone.layer4.1.conv2.weight'] > 0
    # the metric term alone, without BCE: only features, not the head
    full = grads(model, 1.0, 0.0)
    model.loss_cls.loss_weight = 0.0
    metric_only = grads(model, 1.0, 0.0)
    assert metric_only['head.weight'] == 0 < full['head.weight']
    assert metric_only['backbone.layer4.1.conv2.weight'] > 0
    ood_only = grads(model, 0.0, 1.0)
    assert ood_only['head.weight'] > 0


def test_fixed_bn_and_frozen_weights_do_not_change():
    model = build()
    before = copy.deepcopy(model.state_dict())
    params = [p for p in model.parameters() if p.requires_grad]
    model.train_step(data(), OptimWrapper(torch.optim.SGD(params, lr=0.1)))
    after = model.state_dict()
    for name, value in before.items():
        changed = not torch.equal(value, after[name])
        if 'running_' in name or name.startswith(FROZEN) or 'centre' in name:
            assert not changed, name
    assert not torch.equal(before['head.weight'], after['head.weight'])
    assert not torch.equal(before['backbone.layer4.1.conv2.weight'],
                           after['backbone.layer4.1.conv2.weight'])


def test_missing_centres_or_ood_batch_are_clear_errors():
    model = build(centres=False)
    with pytest.raises(ConfigError, match=r'centres are not set.*'
                       r'WOoDCentresHook.*tools/woods_centres.py'):
        model.train_step(data(), frozen_sgd(model))
    model = build()
    with pytest.raises(ConfigError, match=r"data\['ood'\].*OoDBatchHook"):
        model.train_step(batch(), frozen_sgd(model))
    with pytest.raises(TypeError, match='dict training batches'):
        model.train_step([batch()], frozen_sgd(model))
    bad = dict(batch(), ood=dict(batch(), inputs=[
        torch.zeros(3, 32, 48, dtype=torch.uint8)] * 4))
    with pytest.raises(ConfigError, match='differ in size'):
        model.train_step(bad, frozen_sgd(model))


def test_set_centres_checks_shapes():
    model = build(centres=False)
    assert not model.has_centres
    with pytest.raises(ConfigError, match='num_classes x feature channels'):
        model.set_centres(torch.zeros(C + 1, D), torch.zeros(K, D))
    with pytest.raises(ConfigError, match='model.num_clusters=5'):
        model.set_centres(torch.zeros(C, D), torch.zeros(5, D))
    model.set_centres(torch.ones(C, D), torch.full((K, D), 2.0))
    assert model.has_centres


def test_centres_checkpoint_round_trip(tmp_path):
    model = build()
    path = str(tmp_path / 'woods.pth')
    save_checkpoint(model.state_dict(), path)
    fresh = build(centres=False)
    assert not fresh.has_centres
    load_checkpoint(fresh, path, map_location='cpu')
    assert fresh.has_centres
    assert torch.equal(fresh.class_centres, model.class_centres)
    assert torch.equal(fresh.ood_centres, model.ood_centres)


def test_init_checkpoint_loads_a_cam_classifier(tmp_path):
    """A plain CAM checkpoint (no centres) starts W-OoD; a missing file
    names the config key."""
    cam_cfg = woods_cfg()
    for key in ('type', 'num_clusters', 'metric_loss', 'ood_loss'):
        cam_cfg.pop(key)
    torch.manual_seed(3)
    cam = MODELS.build(dict(cam_cfg, type='CAMClassifier'))
    path = str(tmp_path / 'cam.pth')
    save_checkpoint(cam.state_dict(), path)
    model = MODELS.build(dict(woods_cfg(), init_checkpoint=path))
    model.init_weights()
    assert torch.equal(model.head.weight, cam.head.weight)
    assert not model.has_centres
    missing = MODELS.build(dict(woods_cfg(),
                                init_checkpoint=str(tmp_path / 'no.pth')))
    with pytest.raises(FileNotFoundError, match='model.init_checkpoint'):
        missing.init_weights()


def test_predict_is_the_cam_classifiers():
    model = build().eval()
    cam_cfg = woods_cfg()
    for key in ('type', 'num_clusters', 'metric_loss', 'ood_loss'):
        cam_cfg.pop(key)
    cam = MODELS.build(dict(cam_cfg, type='CAMClassifier')).eval()
    cam.load_state_dict(model.state_dict(), strict=False)
    pre = model.data_preprocessor(batch(b=1), False)
    with torch.no_grad():
        ours = model(**copy.deepcopy(pre), mode='predict')[0]
        theirs = cam(**pre, mode='predict')[0]
    assert torch.equal(ours.cams, theirs.cams)
    assert torch.equal(ours.cam_keys, theirs.cam_keys)
