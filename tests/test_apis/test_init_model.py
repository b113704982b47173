"""mmwsss.apis.init_model on the tiny CAM config."""
import pytest
import torch
from mmengine.config import Config

from mmwsss.apis import init_model
from tests.conftest import CAM_CONFIG

FAST = {'model.test_cfg.scales': [1.0, 0.5]}


def state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_builds_in_eval_mode_with_its_config():
    model = init_model(CAM_CONFIG, cfg_options=FAST)
    assert type(model).__name__ == 'CAMClassifier'
    assert not model.training
    assert model.cfg.model.test_cfg.scales == [1.0, 0.5]
    assert model.test_cfg['scales'] == [1.0, 0.5]
    assert next(model.parameters()).device == torch.device('cpu')


def test_config_object_is_left_untouched():
    cfg = Config.fromfile(CAM_CONFIG)
    model = init_model(cfg, cfg_options=FAST)
    assert model.cfg.model.test_cfg.scales == [1.0, 0.5]
    assert cfg.model.test_cfg.scales != [1.0, 0.5]


def test_loads_a_checkpoint(tmp_path):
    trained = init_model(CAM_CONFIG)
    with torch.no_grad():
        for param in trained.parameters():
            param.add_(1.0)
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(state_dict=trained.state_dict(), meta={}), path)

    fresh = init_model(CAM_CONFIG)
    loaded = init_model(CAM_CONFIG, path)
    expected = state(trained)
    assert not torch.equal(state(fresh)['head.weight'],
                           expected['head.weight'])
    for key, value in state(loaded).items():
        assert torch.equal(value, expected[key]), key


def test_pnoc_checkpoint_loads_its_generator(tmp_path):
    """A P-NOC checkpoint into a plain CAM config: its generator, as
    tools/infer_cams.py loads it."""
    generator = init_model(CAM_CONFIG)
    noc = init_model(CAM_CONFIG)
    ckpt = {f'generator.{k}': v for k, v in generator.state_dict().items()}
    ckpt.update({f'noc.{k}': v for k, v in noc.state_dict().items()})
    path = str(tmp_path / 'pnoc.pth')
    torch.save(dict(state_dict=ckpt), path)
    loaded = init_model(CAM_CONFIG, path)
    assert torch.equal(loaded.head.weight, generator.head.weight)
    assert not torch.equal(loaded.head.weight, noc.head.weight)


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='no_such.py'):
        init_model(str(tmp_path / 'no_such.py'))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        init_model(CAM_CONFIG, str(tmp_path / 'missing.pth'))
    with pytest.raises(TypeError, match='config'):
        init_model(dict(model=dict(type='CAMClassifier')))
    other = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict={'unrelated.weight': torch.zeros(2)}), other)
    with pytest.raises(KeyError, match='other.pth'):
        init_model(CAM_CONFIG, other)
    wrong = init_model(CAM_CONFIG, cfg_options={'model.num_classes': 3})
    path = str(tmp_path / 'three.pth')
    torch.save(dict(state_dict=wrong.state_dict()), path)
    with pytest.raises(ValueError, match='shape'):
        init_model(CAM_CONFIG, path)
