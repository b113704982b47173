"""The one checkpoint loader (mmwsss.models.utils.checkpoint)."""
import logging

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MMLogger

from mmwsss.models.utils.checkpoint import (LoadedKeys, imagenet_keys,
                                            load_backbone_weights,
                                            load_weights, mmwsss_keys,
                                            select_prefix)
from mmwsss.utils.errors import CheckpointError, ConfigError


class Net(nn.Module):
    """conv (weight, bias) + fc (weight, bias)."""

    def __init__(self, out: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 1)
        self.fc = nn.Linear(4, out)


def filled(module: nn.Module, value: float) -> dict:
    return {k: torch.full_like(v, value)
            for k, v in module.state_dict().items()}


def save(tmp_path, state: dict, name: str = 'ckpt.pth',
         wrap: bool = True) -> str:
    path = str(tmp_path / name)
    torch.save(dict(state_dict=state, meta={}) if wrap else state, path)
    return path


def test_select_prefix_strips_it_and_adds_the_dot():
    state = {'generator.a': 1, 'generator.b.c': 2, 'generatorx.a': 3,
             'noc.a': 4}
    assert select_prefix(state, 'generator.') == {'a': 1, 'b.c': 2}
    # as mmengine's prefix: 'generator' means 'generator.'
    assert select_prefix(state, 'generator') == {'a': 1, 'b.c': 2}
    assert select_prefix(state, 'missing.') == {}


def test_prefix_picks_the_sub_network(tmp_path):
    net = Net()
    state = {f'generator.{k}': v for k, v in filled(net, 1.0).items()}
    state.update({f'noc.{k}': v for k, v in filled(net, 2.0).items()})
    path = save(tmp_path, state)
    report = load_weights(net, path, 'model.x', prefix='generator.')
    assert isinstance(report, LoadedKeys)
    assert sorted(report.loaded) == sorted(net.state_dict())
    assert report.missing == [] and report.unexpected == []
    assert all(torch.all(v == 1.0) for v in net.state_dict().values())
    # a prefix that matches nothing names the file, both keys and the prefix
    with pytest.raises(CheckpointError) as err:
        load_weights(Net(), path, 'model.pretrained', prefix='backbone.',
                     prefix_key='model.pretrained_prefix')
    msg = str(err.value)
    assert 'ckpt.pth' in msg and '`model.pretrained`' in msg
    assert "`model.pretrained_prefix`='backbone.'" in msg
    assert 'none of the 8 tensors' in msg and 'prefix right' in msg


def test_missing_file_names_the_config_key(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError) as err:
        load_weights(Net(), path, 'model.noc_checkpoint')
    msg = str(err.value)
    assert path in msg and '`model.noc_checkpoint`' in msg
    assert 'train the prerequisite stage first' in msg
    # a config key's hint says how to set it; a known file says its origin
    path = str(tmp_path / 'resnet50-19c8e357.pth')
    with pytest.raises(FileNotFoundError) as err:
        load_backbone_weights(Net(), path, 'model.generator.pretrained')
    msg = str(err.value)
    assert '--cfg-options model.generator.pretrained=PATH' in msg
    assert "torchvision's ResNet-50 ImageNet weights" in msg


def test_imagenet_keys_strip_wrappers_and_drop_the_classifier():
    state = {'module.backbone.conv.weight': 1, 'model.conv.bias': 2,
             'fc.weight': 3, 'head.bias': 4, 'classifier.w': 5,
             'layer1.0.weight': 6}
    assert imagenet_keys(state, {}) == {'conv.weight': 1, 'conv.bias': 2,
                                        'layer1.0.weight': 6}


def test_backbone_weights_load_what_matches_and_report_the_rest(tmp_path):
    net = Net()
    src = filled(net, 5.0)
    state = {'backbone.conv.weight': src['conv.weight'],
             'backbone.conv.bias': src['conv.bias'],
             'fc.weight': torch.zeros(1000, 4), 'extra.w': torch.zeros(1)}
    path = save(tmp_path, state, wrap=False)
    report = load_backbone_weights(net, path)
    assert report.loaded == ['conv.weight', 'conv.bias']
    assert report.missing == ['fc.weight', 'fc.bias']
    assert report.unexpected == ['extra.w']  # fc.weight was dropped
    assert torch.all(net.conv.weight == 5.0)
    assert not torch.all(net.fc.weight == 5.0)


def test_the_report_is_logged(tmp_path):
    net = Net()
    state = filled(net, 1.0)
    state['extra.w'] = torch.zeros(1)
    del state['fc.bias']
    path = save(tmp_path, state)
    logger = MMLogger.get_current_instance()
    handler = _Keep()
    logger.addHandler(handler)
    try:
        load_weights(net, path, 'CHECKPOINT', required=('conv.', ))
    finally:
        logger.removeHandler(handler)
    line = next(m for m in handler.messages if m.startswith('loaded '))
    assert line.startswith(f'loaded {path} into Net (`CHECKPOINT`): 3/4 '
                           'tensors')
    assert "missing 1 (e.g. ['fc.bias'])" in line
    assert "unused 1 (e.g. ['extra.w'])" in line


class _Keep(logging.Handler):
    """A logging handler that keeps the messages."""

    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_mmwsss_keys_drop_ddp_and_find_the_generator(tmp_path):
    net = Net()
    ddp = {f'module.{k}': v for k, v in filled(net, 3.0).items()}
    load_weights(net, save(tmp_path, ddp), 'CHECKPOINT',
                 key_map=mmwsss_keys)
    assert all(torch.all(v == 3.0) for v in net.state_dict().values())
    pnoc = {f'generator.{k}': v for k, v in filled(net, 4.0).items()}
    pnoc.update({f'noc.{k}': v for k, v in filled(net, 6.0).items()})
    assert set(mmwsss_keys(pnoc, net.state_dict())) == set(net.state_dict())
    load_weights(net, save(tmp_path, pnoc), 'CHECKPOINT',
                 key_map=mmwsss_keys)
    assert all(torch.all(v == 4.0) for v in net.state_dict().values())


def test_a_key_map_renames_old_keys(tmp_path):
    net = Net()
    old = {k.replace('fc.', 'linear.'): v
           for k, v in filled(net, 7.0).items()}
    path = save(tmp_path, old)
    with pytest.raises(CheckpointError, match=r"2 tensors missing.*fc\."):
        load_weights(Net(), path, 'CHECKPOINT')

    def rename(state, own):
        return {k.replace('linear.', 'fc.'): v for k, v in state.items()}

    load_weights(net, path, 'CHECKPOINT', key_map=rename)
    assert torch.all(net.fc.weight == 7.0)


def test_errors_are_key_and_value_errors(tmp_path):
    """CheckpointError is a KeyError (the loaders' old type for keys that
    do not fit) and a ConfigError (a ValueError the tools report as one
    line); its message is not quoted as a KeyError's."""
    path = save(tmp_path, {'unrelated.weight': torch.zeros(2)})
    with pytest.raises(KeyError) as err:
        load_weights(Net(), path, 'CHECKPOINT')
    assert isinstance(err.value, ConfigError)
    assert str(err.value).startswith('none of the 1 tensors in "')
    # shapes
    path = save(tmp_path, filled(Net(out=5), 0.0), 'five.pth')
    with pytest.raises(ValueError, match=r'2 tensors differ in shape.*'
                       r'fc.weight: \(5, 4\) vs \(3, 4\)'):
        load_weights(Net(), path, 'CHECKPOINT')
    # strict: left-over tensors
    state = filled(Net(), 0.0)
    state['extra.w'] = torch.zeros(1)
    path = save(tmp_path, state, 'extra.pth')
    with pytest.raises(CheckpointError, match=r"no place.*'extra.w'"):
        load_weights(Net(), path, 'CHECKPOINT', strict=True)
    load_weights(Net(), path, 'CHECKPOINT')  # non-strict: logged only
