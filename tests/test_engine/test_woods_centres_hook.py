"""WOoDCentresHook: centres from the tool's side file, computed in-process
(deterministic, equal to the tool's), kept from a loaded checkpoint, and
the errors without a trained classifier or with a mismatching file."""
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmwsss.synthetic import generate_synthetic_voc
from mmwsss.engine.hooks import WOoDCentresHook
from mmwsss.inference import load_centres, save_centres
from mmwsss.registry import MODELS
from mmwsss.utils.errors import ConfigError
from tests.conftest import REPO, load_tool

CONFIG = osp.join(REPO, 'configs', 'woods', 'woods_tiny_synthetic.py')
K = 3


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """(config pointing at a small synthetic set with OoD images, the
    checkpoint of a randomly initialised tiny classifier, the data root)."""
    base = tmp_path_factory.mktemp('woods_hook')
    root = str(base / 'data')
    generate_synthetic_voc(root, num_train=12, num_val=2,
                           image_size=(40, 56), num_ood=6, seed=2)
    cfg = Config.fromfile(CONFIG)
    cfg.train_dataloader.dataset.data_root = root
    cfg.test_dataloader.dataset.data_root = root
    cfg.ood_dataset.data_root = osp.join(root, 'OoD')
    cfg.model.num_clusters = K
    init_default_scope('mmwsss')
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg.model, init_checkpoint=None))
    ckpt = str(base / 'cam.pth')  # a CAM classifier's: no centres
    state = {k: v for k, v in model.state_dict().items()
             if k.startswith(('backbone.', 'head.'))}
    torch.save(dict(state_dict=state, meta={}), ckpt)
    cfg.model.init_checkpoint = ckpt
    return cfg, ckpt, root


def runner_for(cfg, work_dir, init=True):
    """What the hook reads of a runner: the model (initialised from the
    config's init_checkpoint), the config and the work dir."""
    init_default_scope('mmwsss')
    model = MODELS.build(cfg.model if init else dict(
        cfg.model, init_checkpoint=None))
    model.init_weights()
    return SimpleNamespace(model=model.train(), cfg=cfg,
                           work_dir=str(work_dir))


def test_computes_deterministic_centres_equal_to_the_tool(setup, tmp_path):
    cfg, ckpt, root = setup
    first = runner_for(cfg, tmp_path / 'a')
    WOoDCentresHook().before_train(first)
    model = first.model
    assert model.has_centres and model.training
    assert model.ood_centres.shape == (K, 128)
    saved = load_centres(str(tmp_path / 'a' / 'woods_centres.pth'),
                         num_classes=6, feature_dim=128)
    assert torch.equal(saved.class_centres, model.class_centres)
    assert saved.meta['checkpoint'] == ckpt and saved.meta['seed'] == 0

    second = runner_for(cfg, tmp_path / 'b')
    WOoDCentresHook(save_to=None).before_train(second)
    assert torch.equal(second.model.class_centres, model.class_centres)
    assert torch.equal(second.model.ood_centres, model.ood_centres)
    assert not (tmp_path / 'b').exists()

    # the tool gives the same centres (one implementation)
    out = str(tmp_path / 'tool.pth')
    assert load_tool('woods_centres').main([
        CONFIG, ckpt, '--out', out, '--num-clusters', str(K), '--device',
        'cpu', '--cfg-options', f'train_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'ood_dataset.data_root={osp.join(root, "OoD")}'
    ]) == 0
    tool = load_centres(out)
    assert torch.equal(tool.class_centres, model.class_centres)
    assert torch.equal(tool.ood_centres, model.ood_centres)

    # another seed: other OoD centres, same class centres
    third = runner_for(cfg, tmp_path / 'c')
    WOoDCentresHook(seed=5, save_to=None).before_train(third)
    assert torch.equal(third.model.class_centres, model.class_centres)
    assert not torch.equal(third.model.ood_centres, model.ood_centres)


def test_loads_the_side_file(setup, tmp_path):
    cfg, _, _ = setup
    path = str(tmp_path / 'centres.pth')
    cls, ood = torch.rand(6, 128), torch.rand(K, 128)
    save_centres(path, cls, ood, dict(seed=0))
    runner = runner_for(cfg, tmp_path)
    WOoDCentresHook(centres_file=path).before_train(runner)
    assert torch.equal(runner.model.class_centres, cls)
    assert torch.equal(runner.model.ood_centres, ood)
    assert not (tmp_path / 'woods_centres.pth').exists()

    save_centres(path, cls, torch.rand(K + 2, 128), dict(seed=0))
    with pytest.raises(ConfigError, match=f'model.num_clusters={K + 2}'):
        WOoDCentresHook(centres_file=path).before_train(
            runner_for(cfg, tmp_path))
    save_centres(path, torch.rand(6, 64), torch.rand(K, 64), dict(seed=0))
    with pytest.raises(ValueError, match='dimension 64 but the classifier '
                       'has 128'):
        WOoDCentresHook(centres_file=path).before_train(
            runner_for(cfg, tmp_path))
    with pytest.raises(FileNotFoundError, match='tools/woods_centres.py'):
        WOoDCentresHook(centres_file=str(tmp_path / 'none.pth')).before_train(
            runner_for(cfg, tmp_path))


def test_keeps_centres_of_a_loaded_checkpoint(setup, tmp_path):
    cfg, _, _ = setup
    runner = runner_for(cfg, tmp_path)
    cls, ood = torch.rand(6, 128), torch.rand(K, 128)
    runner.model.set_centres(cls, ood)
    WOoDCentresHook(centres_file=str(tmp_path / 'ignored.pth')).before_train(
        runner)
    assert torch.equal(runner.model.class_centres, cls)


def test_refuses_an_untrained_classifier(setup, tmp_path):
    cfg, ckpt, _ = setup
    runner = runner_for(cfg, tmp_path, init=False)
    with pytest.raises(ConfigError, match='model.init_checkpoint=CKPT'):
        WOoDCentresHook().before_train(runner)
    # load_from is an alternative to init_checkpoint
    runner.cfg = Config(dict(runner.cfg.to_dict(), load_from=ckpt))
    WOoDCentresHook(save_to=None).before_train(runner)
    assert runner.model.has_centres


def test_needs_a_woods_model(tmp_path):
    runner = SimpleNamespace(model=torch.nn.Linear(2, 2), cfg=Config(),
                             work_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="model.type='WOoD'"):
        WOoDCentresHook().before_train(runner)
