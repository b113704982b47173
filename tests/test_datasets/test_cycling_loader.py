"""CyclingLoader: endless passes over a dataloader, reshuffled per cycle,
reproducible for a seed; on a real OoDDataset loader too."""
import os.path as osp

import pytest
import torch
from mmengine.dataset import DefaultSampler
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmwsss.datasets import CyclingLoader
from mmwsss.synthetic import SYNTHETIC_CLASSES, generate_synthetic_voc
from mmwsss.utils.errors import DataError


def loader(n=5, batch_size=2, shuffle=True, seed=0, drop_last=False):
    data = list(range(n))
    return DataLoader(data, batch_size=batch_size, drop_last=drop_last,
                      sampler=DefaultSampler(data, shuffle=shuffle,
                                             seed=seed),
                      collate_fn=lambda xs: list(xs))


def take(stream, k):
    return [next(stream) for _ in range(k)]


def test_order_without_shuffle_and_restart():
    stream = CyclingLoader(loader(shuffle=False))
    assert take(stream, 7) == [[0, 1], [2, 3], [4], [0, 1], [2, 3], [4],
                               [0, 1]]
    assert stream.cycle == 2
    assert iter(stream) is stream


def test_every_cycle_is_a_new_permutation():
    stream = CyclingLoader(loader(n=6, batch_size=3, drop_last=True))
    cycles = [sum(take(stream, 2), []) for _ in range(4)]
    for order in cycles:
        assert sorted(order) == list(range(6))  # each image once per cycle
    assert len({tuple(c) for c in cycles}) > 1  # reshuffled
    # cycle c draws DefaultSampler's order for epoch c (seed + c)
    sampler = DefaultSampler(list(range(6)), shuffle=True, seed=0)
    for c, order in enumerate(cycles):
        sampler.set_epoch(c)
        assert order == list(iter(sampler))


def test_reproducible_and_seeded():
    a = take(CyclingLoader(loader(seed=3)), 9)
    assert a == take(CyclingLoader(loader(seed=3)), 9)
    assert a != take(CyclingLoader(loader(seed=4)), 9)


def test_start_cycle():
    late = CyclingLoader(loader(seed=1), start_cycle=2)
    full = CyclingLoader(loader(seed=1))
    take(full, 6)  # cycles 0 and 1 (3 batches each)
    assert take(late, 3) == take(full, 3) and late.cycle == full.cycle == 2
    with pytest.raises(ValueError, match='start_cycle'):
        CyclingLoader(loader(), start_cycle=-1)


def test_empty_loader_is_a_clear_error():
    stream = CyclingLoader(loader(n=3, batch_size=4, drop_last=True),
                           name='ood_dataloader')
    with pytest.raises(DataError, match='ood_dataloader yields no batch '
                       r'\(3 images, batch_size 4, drop_last=True\)'):
        next(stream)


def test_real_ood_loader(tmp_path):
    init_default_scope('mmwsss')
    root = str(tmp_path / 'data')
    generate_synthetic_voc(root, num_train=2, num_val=1,
                           image_size=(32, 40), num_ood=3)
    dl = Runner.build_dataloader(
        dict(batch_size=2, num_workers=0,
             sampler=dict(type='DefaultSampler', shuffle=True),
             dataset=dict(
                 type='OoDDataset', data_root=osp.join(root, 'OoD'),
                 metainfo=dict(classes=SYNTHETIC_CLASSES),
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='RandomCropPad', crop_size=(32, 32)),
                           dict(type='PackWSSSInputs')])),
        seed=0)
    stream = CyclingLoader(dl)
    ids = []
    for batch in take(stream, 4):  # 2 cycles of (2, 1) images
        assert [tuple(x.shape) for x in batch['inputs']] == [
            (3, 32, 32)] * len(batch['inputs'])
        for sample in batch['data_samples']:
            assert torch.equal(sample.gt_label, torch.zeros(6))
            ids.append(sample.metainfo['img_id'])
    assert sorted(ids[:3]) == sorted(ids[3:]) == [
        'ood_00000', 'ood_00001', 'ood_00002']
