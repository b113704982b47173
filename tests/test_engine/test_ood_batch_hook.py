"""OoDBatchHook: every training batch gets one OoD batch, the OoD stream
cycles through its own loader, and the in-distribution order is unchanged."""
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmwsss.engine.hooks import OoDBatchHook
from mmwsss.utils.errors import ConfigError


class Numbers(Dataset):
    """Items ``{'inputs': tensor(offset + i), 'data_samples': i}``."""

    def __init__(self, n: int, offset: int = 0) -> None:
        self.n, self.offset = n, offset

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        return dict(inputs=torch.tensor(float(self.offset + i)),
                    data_samples=i)


class Recorder(BaseModel):
    """Records the ids of the ID batch and of its OoD batch."""

    def __init__(self, key: str = 'ood') -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.key = key
        self.seen = []

    def train_step(self, data, optim_wrapper):
        ood = data.pop(self.key, None)
        self.seen.append((list(data['data_samples']),
                          None if ood is None else list(ood['data_samples'])))
        return dict(loss=torch.tensor(0.))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return inputs


def loader_cfg(dataset, batch_size, drop_last=False):
    return dict(dataset=dataset, batch_size=batch_size, num_workers=0,
                drop_last=drop_last,
                sampler=dict(type='DefaultSampler', shuffle=True))


def run(tmp_path, name, hooks, epochs=2):
    model = Recorder()
    runner = Runner(
        model=model,
        work_dir=str(tmp_path / name),
        experiment_name=name,
        train_dataloader=loader_cfg(Numbers(6), 2),
        train_cfg=dict(by_epoch=True, max_epochs=epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(checkpoint=None, logger=None),
        custom_hooks=hooks,
        randomness=dict(seed=0),
        default_scope='mmwsss')
    runner.train()
    return model.seen


def ood_hook(n=5, batch_size=2):
    return dict(type='OoDBatchHook',
                ood_dataloader=loader_cfg(Numbers(n, offset=100),
                                          batch_size))


def test_every_batch_gets_an_ood_batch(tmp_path):
    seen = run(tmp_path, 'ood_hook_a', [ood_hook()])
    assert len(seen) == 6  # 2 epochs x 3 ID batches
    ood = [batch for _, batch in seen]
    assert [len(b) for b in ood] == [2, 2, 1, 2, 2, 1]  # 5 OoD, batch 2
    first, second = sum(ood[:3], []), sum(ood[3:], [])
    assert sorted(first) == sorted(second) == list(range(5))
    assert first != second  # reshuffled per cycle
    # reproducible, and the ID stream is the one without the hook
    assert run(tmp_path, 'ood_hook_b', [ood_hook()]) == seen
    plain = run(tmp_path, 'ood_hook_c', [])
    assert [ids for ids, _ in plain] == [ids for ids, _ in seen]
    assert all(batch is None for _, batch in plain)


def test_resume_starts_at_the_reached_cycle():
    hook = OoDBatchHook(loader_cfg(Numbers(5), 2))
    runner = SimpleNamespace(build_dataloader=Runner.build_dataloader,
                             seed=0, iter=7)
    hook.before_train(runner)
    assert hook.stream.cycle == 2  # 3 batches per cycle


def test_batch_field_checks():
    hook = OoDBatchHook(loader_cfg(Numbers(3), 2))
    with pytest.raises(RuntimeError, match='before_train'):
        hook.before_train_iter(None, 0, {})
    hook.before_train(SimpleNamespace(
        build_dataloader=Runner.build_dataloader, seed=0, iter=0))
    batch = dict(inputs=[], data_samples=[])
    hook.before_train_iter(None, 0, batch)
    assert len(batch['ood']['data_samples']) == 2
    with pytest.raises(ConfigError, match='already has a "ood" field'):
        hook.before_train_iter(None, 1, batch)
    with pytest.raises(TypeError, match='dict training batches'):
        hook.before_train_iter(None, 1, [1, 2])


def test_config_error():
    with pytest.raises(ConfigError, match='dataloader config with a '
                       '`dataset`'):
        OoDBatchHook(dict(batch_size=2))
