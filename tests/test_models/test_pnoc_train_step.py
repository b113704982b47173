"""P-NOC's alternating train_step on CPU: which parameters each update
touches, the CSE-gradient leak switch, frozen BN and accumulation."""
import copy

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from mmwsss.engine.optimizers import SumAccumOptimWrapper
from mmwsss.registry import MODELS
from tests.conftest import tiny_backbone


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmwsss')


def pnoc_cfg(second='noc', **kwargs):
    """A tiny model of the family (P-NOC by default); ``second`` is the key
    of the second classifier ('noc', 'oc' or None)."""
    net = dict(type='CAMClassifier', backbone=tiny_backbone(),
               num_classes=4, in_channels=64)
    cfg = dict(
        type='PNOC',
        data_preprocessor=dict(type='SegDataPreProcessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375],
                               bgr_to_rgb=True, size=(64, 64)),
        generator=net)
    if second:
        cfg[second] = dict(net, freeze_bn=True)
    cfg.update(kwargs)
    return cfg


def batch(b=4):
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8,
                            generator=g) for _ in range(b)]
    samples = []
    for i in range(b):
        ds = SegDataSample(metainfo=dict(img_shape=(64, 64)))
        label = torch.zeros(4)
        label[i % 4] = 1
        label[(i + 1) % 4] = 1
        ds.set_data(dict(gt_label=label))
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


def wrappers(model, gen_accum=1, noc_accum=1):
    """The reference's wrappers: micro-batch gradients summed."""
    return OptimWrapperDict(
        generator=SumAccumOptimWrapper(
            torch.optim.SGD(model.generator.parameters(), lr=0.1),
            accumulative_counts=gen_accum),
        noc=SumAccumOptimWrapper(
            torch.optim.SGD(
                [p for p in model.noc.parameters() if p.requires_grad],
                lr=0.1),
            accumulative_counts=noc_accum))


def set_iter(i, total=10):
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', i)
    hub.update_info('max_iters', total)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module):
    now = module.state_dict()
    return {k for k, v in before.items() if not torch.equal(v, now[k])}


def test_generator_and_noc_updates_touch_only_their_network():
    torch.manual_seed(0)
    model = MODELS.build(pnoc_cfg('oc', type='POC')).train()
    gen0, oc0 = snapshot(model.generator), snapshot(model.oc)
    set_iter(5)
    log = model.train_step(batch(), model_ow := OptimWrapper(
        torch.optim.SGD(model.generator.parameters(), lr=0.1)))
    assert {'loss_cls', 'loss_puzzle', 'loss_re', 'loss_cse'} <= set(log)
    assert changed(gen0, model.generator)
    assert not changed(oc0, model.oc)  # frozen OC (P-OC)
    del model_ow

    torch.manual_seed(0)
    model = MODELS.build(pnoc_cfg()).train()
    ow = wrappers(model)
    # generator step alone: noc untouched
    gen0, noc0 = snapshot(model.generator), snapshot(model.noc)
    set_iter(5)
    model.noc_interval = 1000  # no noc step at this iteration
    model.train_step(batch(), ow)
    assert changed(gen0, model.generator) and not changed(noc0, model.noc)
    # noc step: noc weights change, generator only via its own step
    model.noc_interval = 1
    noc0 = snapshot(model.noc)
    log = model.train_step(batch(), ow)
    assert 'loss_noc' in log
    noc_changed = changed(noc0, model.noc)
    assert noc_changed and all('running' not in k and 'bn' not in k
                               for k in noc_changed)  # frozen BN


def _noc_grad_after_generator_step(leak):
    torch.manual_seed(0)
    model = MODELS.build(pnoc_cfg(noc_receives_cse_grad=leak)).train()
    ow = wrappers(model)
    set_iter(9)  # λ_noc > 0
    model.noc_interval = 1000  # stop after the generator step
    model.train_step(batch(), ow)
    return model.noc.head.weight.grad


def test_cse_gradient_leak_switch():
    leaked = _noc_grad_after_generator_step(True)
    assert leaked is not None and leaked.abs().sum() > 0
    clean = _noc_grad_after_generator_step(False)
    assert clean is None or clean.abs().sum() == 0


def test_noc_update_includes_leaked_gradient():
    """With the leak the noc step applies (CSE grad + own grad)."""
    results = {}
    for leak in (True, False):
        torch.manual_seed(0)
        model = MODELS.build(pnoc_cfg(noc_receives_cse_grad=leak)).train()
        ow = wrappers(model)
        set_iter(9)
        torch.manual_seed(1)
        model.train_step(batch(), ow)
        results[leak] = model.noc.head.weight.detach().clone()
    assert not torch.allclose(results[True], results[False])


def test_frozen_bn_statistics_unchanged_in_noc():
    torch.manual_seed(0)
    model = MODELS.build(pnoc_cfg()).train()
    before = model.noc.backbone.bn1.running_mean.clone()
    set_iter(3)
    model.train_step(batch(), wrappers(model))
    assert torch.equal(model.noc.backbone.bn1.running_mean, before)
    assert not model.noc.backbone.bn1.training
    assert model.generator.backbone.bn1.training


def test_accumulation_steps_once_per_n_micro_steps():
    torch.manual_seed(0)
    model = MODELS.build(pnoc_cfg()).train()
    ow = wrappers(model, gen_accum=2, noc_accum=2)
    steps = {'generator': 0, 'noc': 0}
    for name in steps:
        opt = ow[name].optimizer
        original = opt.step

        def counted(*a, _name=name, _orig=original, **k):
            steps[_name] += 1
            return _orig(*a, **k)

        opt.step = counted
    for i in range(4):
        set_iter(i, 4)
        model.train_step(batch(), ow)
    assert steps == {'generator': 2, 'noc': 2}


def test_predict_uses_the_generator():
    torch.manual_seed(0)
    model = MODELS.build(pnoc_cfg()).eval()
    data = model.data_preprocessor(batch(1), False)
    with torch.no_grad():
        out = model(**data, mode='predict')[0]
        ref = model.generator(**copy.deepcopy(data), mode='predict')[0]
    assert torch.equal(out.cams, ref.cams)


def test_config_errors():
    with pytest.raises(ValueError, match='PNOC needs model.noc'):
        MODELS.build(pnoc_cfg(None))
    with pytest.raises(KeyError, match='rec'):
        MODELS.build(pnoc_cfg(weights=dict(rec=1.0)))
    with pytest.raises(ValueError, match='train_noc needs cse'):
        MODELS.build(pnoc_cfg(None, type='PNOCFamily', cse=False))


@pytest.mark.parametrize('key,second', [('noc', 'noc'), ('oc', 'oc')])
def test_missing_checkpoint_names_config_key(tmp_path, key, second):
    preset = dict(noc='PNOC', oc='POC')[second]
    model = MODELS.build(pnoc_cfg(
        second, type=preset, **{f'{key}_checkpoint': str(tmp_path / 'x')}))
    with pytest.raises(FileNotFoundError, match=f'model.{key}_checkpoint'):
        model.init_weights()


PRESET_SWITCHES = dict(
    PuzzleCAM=(dict(puzzle=True, cse=False, train_noc=False), None),
    OCCSE=(dict(puzzle=False, cse=True, train_noc=False), 'oc'),
    POC=(dict(puzzle=True, cse=True, train_noc=False), 'oc'),
    PNOC=(dict(puzzle=True, cse=True, train_noc=True), 'noc'),
)


@pytest.mark.parametrize('preset', sorted(PRESET_SWITCHES))
def test_each_preset_fixes_its_switches_and_second_key(preset):
    from mmwsss.models.classifiers.pnoc import PRESETS
    switches, second = PRESET_SWITCHES[preset]
    assert dict(PRESETS[preset].fixed_switches) == switches
    model = MODELS.build(pnoc_cfg(second, type=preset))
    assert {k: getattr(model, k) for k in switches} == switches
    assert model.second_key == second
    other = dict(noc='oc', oc='noc').get(second, 'noc')
    assert other not in dict(model.named_children())
    if second is None:
        assert model.second is None
        return
    assert model.second is getattr(model, second)
    assert all(k.startswith(('generator.', f'{second}.'))
               for k in model.state_dict())
    trains = any(p.requires_grad for p in model.second.parameters())
    assert trains == switches['train_noc']
    # the same value as the preset's is accepted, a different one refused
    MODELS.build(pnoc_cfg(second, type=preset, **switches))
    for key, value in switches.items():
        with pytest.raises(ValueError, match=f'{preset} fixes {key}={value};'
                           '.*PNOCFamily to combine switches freely'):
            MODELS.build(pnoc_cfg(second, type=preset, **{key: not value}))


def test_refusal_names_the_preset_to_use():
    with pytest.raises(ValueError, match='OCCSE fixes puzzle=False; use POC '
                       'for puzzle . CSE'):
        MODELS.build(pnoc_cfg('oc', type='OCCSE', puzzle=True))
    with pytest.raises(ValueError, match='PNOC fixes train_noc=True; use POC'):
        MODELS.build(pnoc_cfg('noc', type='PNOC', train_noc=False))
    with pytest.raises(ValueError, match='PuzzleCAM fixes cse=False; use POC'):
        MODELS.build(pnoc_cfg(None, type='PuzzleCAM', cse=True))


def test_family_combines_switches_freely():
    """P-NOC without the puzzle terms (docs/experiments.md) needs the
    general class; its second classifier follows train_noc."""
    model = MODELS.build(pnoc_cfg(type='PNOCFamily', puzzle=False))
    assert (model.puzzle, model.cse, model.train_noc) == (False, True, True)
    assert model.second_key == 'noc'
    frozen = MODELS.build(pnoc_cfg('oc', type='PNOCFamily', train_noc=False))
    assert frozen.second_key == 'oc'


@pytest.mark.parametrize('preset,wrong,right', [
    ('PNOC', 'oc', 'noc'), ('POC', 'noc', 'oc'), ('OCCSE', 'noc', 'oc')])
def test_wrong_second_key_names_the_right_one(preset, wrong, right):
    with pytest.raises(ValueError, match=f'{preset} .*configure it as '
                       f'model.{right} and model.{right}_checkpoint, not '
                       f'model.{wrong}'):
        MODELS.build(pnoc_cfg(wrong, type=preset))
    with pytest.raises(ValueError, match=f'not model.{wrong}_checkpoint'):
        MODELS.build(pnoc_cfg(right, type=preset,
                              **{f'{wrong}_checkpoint': 'x.pth'}))


def test_puzzle_cam_refuses_an_unused_second_classifier():
    with pytest.raises(ValueError, match='PuzzleCAM has no CSE term.*'
                       'remove model.oc'):
        MODELS.build(pnoc_cfg('oc', type='PuzzleCAM'))


def test_old_frozen_oc_checkpoint_keys_load_as_oc(tmp_path):
    """OC-CSE / P-OC checkpoints of older runs keep the frozen OC under
    ``noc.``; loading (mmengine's load_checkpoint, as resume/load_from)
    moves them to ``oc.``. P-NOC keeps ``noc.``."""
    from mmengine.runner import load_checkpoint
    torch.manual_seed(0)
    saved = MODELS.build(pnoc_cfg('oc', type='POC'))
    old = {(f'noc.{k[3:]}' if k.startswith('oc.') else k): v
           for k, v in saved.state_dict().items()}
    path = str(tmp_path / 'old_poc.pth')
    torch.save(dict(state_dict=old), path)
    torch.manual_seed(1)
    model = MODELS.build(pnoc_cfg('oc', type='POC'))
    assert not torch.equal(model.oc.head.weight, saved.oc.head.weight)
    load_checkpoint(model, path, strict=True)
    assert torch.equal(model.oc.head.weight, saved.oc.head.weight)
    pnoc = MODELS.build(pnoc_cfg())
    with pytest.raises(RuntimeError, match='oc'):
        pnoc.load_state_dict(saved.state_dict())


def test_ema_follows_generator_steps_only():
    torch.manual_seed(0)
    model = MODELS.build(pnoc_cfg(ema=dict(momentum=0.25))).train()
    model.init_weights()
    ema = model.generator_ema
    w0 = model.generator.head.weight.detach().clone()
    assert torch.equal(ema.module.head.weight, w0)  # starts as a copy
    assert not any(p.requires_grad for p in ema.parameters())
    ow = wrappers(model, gen_accum=2)
    set_iter(0, 4)
    model.train_step(batch(), ow)  # accumulating: no optimizer step
    assert torch.equal(ema.module.head.weight, w0)
    set_iter(1, 4)
    model.train_step(batch(), ow)  # optimizer step: one EMA update
    w1 = model.generator.head.weight.detach()
    assert not torch.equal(w1, w0)
    torch.testing.assert_close(ema.module.head.weight, 0.75 * w0 + 0.25 * w1)
    # BN statistics are averaged too (update_buffers)
    gen_bn = model.generator.backbone.bn1.running_mean
    assert not torch.equal(ema.module.backbone.bn1.running_mean, gen_bn)


def test_ema_copies_before_begin_iter():
    torch.manual_seed(0)
    model = MODELS.build(pnoc_cfg(ema=dict(momentum=0.25,
                                           begin_iter=5))).train()
    model.init_weights()
    ow = wrappers(model)
    for i in range(2):
        set_iter(i)
        model.train_step(batch(), ow)
    assert torch.equal(model.generator_ema.module.head.weight,
                       model.generator.head.weight)
    set_iter(5)
    before = model.generator_ema.module.head.weight.clone()
    model.train_step(batch(), ow)
    torch.testing.assert_close(
        model.generator_ema.module.head.weight,
        0.75 * before + 0.25 * model.generator.head.weight.detach())


def test_predict_uses_the_ema_generator_and_checkpoints_load_it(tmp_path):
    from mmwsss.models.utils.checkpoint import load_weights, mmwsss_keys
    torch.manual_seed(0)
    model = MODELS.build(pnoc_cfg(ema=dict(momentum=0.5))).train()
    model.init_weights()
    ow = wrappers(model)
    for i in range(2):
        set_iter(i)
        model.train_step(batch(), ow)
    model.eval()
    assert model.inference_prefixes() == ('generator_ema.', )
    data = model.data_preprocessor(batch(1), False)
    with torch.no_grad():
        out = model(**data, mode='predict')[0].cams
        ema = model.generator_ema.module(**copy.deepcopy(data),
                                         mode='predict')[0].cams
        live = model.generator(**copy.deepcopy(data), mode='predict')[0].cams
    assert torch.equal(out, ema) and not torch.allclose(out, live)
    path = str(tmp_path / 'pnoc.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    # a plain CAM classifier takes the EMA generator of a P-NOC checkpoint
    plain = MODELS.build(pnoc_cfg()['generator']).eval()
    load_weights(plain, path, 'checkpoint', key_map=mmwsss_keys)
    torch.testing.assert_close(plain.head.weight,
                               model.generator_ema.module.head.weight)
    # a P-NOC model with EMA keeps the EMA's own `module.` keys
    again = MODELS.build(pnoc_cfg(ema=dict(momentum=0.5)))
    load_weights(again, path, 'checkpoint', key_map=mmwsss_keys,
                 required=('generator_ema.', ))
    torch.testing.assert_close(again.generator_ema.module.head.weight,
                               model.generator_ema.module.head.weight)
    torch.testing.assert_close(again.generator.head.weight,
                               model.generator.head.weight)


def test_ema_config_errors():
    with pytest.raises(KeyError, match='decay'):
        MODELS.build(pnoc_cfg(ema=dict(decay=0.99)))


def _reference_loop():
    """``reference_step`` of benchmarks/train_step.py: the reference's
    plain-PyTorch P-NOC step (README: P-NOC)."""
    from tests.conftest import load_benchmark
    return load_benchmark('train_step').reference_step


def test_train_step_matches_the_reference_loop():
    """Same networks, inputs and seed: 4 micro-steps with accumulation 2
    (gradients summed) give the reference loop's weights, both networks."""
    reference_step = _reference_loop()
    torch.manual_seed(0)
    ours = MODELS.build(pnoc_cfg()).train()
    ref = copy.deepcopy(ours)
    init = {net: snapshot(getattr(ours, net)) for net in ('generator', 'noc')}
    ow_ours = wrappers(ours, gen_accum=2, noc_accum=2)
    ow_ref = wrappers(ref, gen_accum=2, noc_accum=2)
    data = batch()
    for i in range(4):
        set_iter(i, 4)
        torch.manual_seed(10 + i)
        ours.train_step(copy.deepcopy(data), ow_ours)
        torch.manual_seed(10 + i)
        reference_step(ref, {k: ow_ref[k].optimizer for k in ow_ref.keys()},
                       copy.deepcopy(data), i, 4, 2, {}, 'cpu')
    for net in ('generator', 'noc'):
        a = getattr(ours, net).state_dict()
        b = getattr(ref, net).state_dict()
        assert changed(init[net], getattr(ours, net)), net  # it trained
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=1e-4,
                                       atol=1e-5, msg=f'{net}.{key}')
