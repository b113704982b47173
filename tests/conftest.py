"""Shared fixtures: a tiny synthetic VOC-layout data set and a tiny CAM
model config (real code paths, 32-64 px images)."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys
from types import ModuleType
from typing import Tuple

import numpy as np
import pytest
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


#: Session fixtures that train a model in a subprocess: every test using one
#: (directly or through another fixture) is marked ``slow``.
SLOW_FIXTURES = frozenset({'vanilla_run'})


def pytest_collection_modifyitems(items: list) -> None:
    """Mark the tests that need a trained run ``slow`` (``-m "not slow"``
    deselects them; the default runs everything)."""
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, 'fixturenames', ())):
            item.add_marker(pytest.mark.slow)


def load_script(folder: str, name: str, prefix: str) -> ModuleType:
    """Import ``{folder}/{name}.py`` of the repository as the module
    ``{prefix}_{name}`` (``/`` in ``name`` becomes ``_``).

    It is registered in ``sys.modules`` so worker processes can unpickle
    the script's job objects, and imported once: a second import would make
    the first module's classes unpicklable.
    """
    module_name = f'{prefix}_' + name.replace('/', '_')
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(
        module_name, osp.join(REPO, folder, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load_tool(name: str) -> ModuleType:
    """``tools/{name}.py`` as the module ``tool_{name}``
    (``dataset_converters/coco`` works too)."""
    return load_script('tools', name, 'tool')


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/{name}.py`` as the module ``bench_{name}``."""
    return load_script('benchmarks', name, 'bench')


def read_indexed_png(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """The labels and the ``(N, 3)`` palette of a palette PNG (fails on
    another mode)."""
    with Image.open(path) as img:
        assert img.mode == 'P', f'{path}: mode {img.mode}, not P'
        return np.asarray(img), np.asarray(img.getpalette()).reshape(-1, 3)


def tiny_backbone(base: int = 8) -> dict:
    """Slim ResNet-18 at output stride 16 (8·8 = 64 output channels)."""
    return dict(
        type='ResNet',
        _scope_='mmpretrain',
        depth=18,
        stem_channels=base,
        base_channels=base,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        out_indices=(3, ))


def tiny_cam_model(num_classes: int = 6, **kwargs) -> dict:
    cfg = dict(
        type='CAMClassifier',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            size_divisor=16,
            pad_val=0,
            seg_pad_val=255),
        backbone=tiny_backbone(),
        num_classes=num_classes,
        in_channels=64,
        loss=dict(type='MultiLabelSoftMarginLoss', label_smoothing=0.1),
        test_cfg=dict(scales=(1.0, 0.5), flip=True, stride=16))
    cfg.update(kwargs)
    return cfg


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> str:
    """A small synthetic VOC-layout data set (generated once per session)."""
    from mmwsss.synthetic import generate_synthetic_voc
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_voc(root, num_train=24, num_val=8, seed=0)
    return root


CAM_CONFIG = osp.join(REPO, 'configs', 'cam', 'cam_tiny_synthetic.py')


def data_opts(root: str, epochs: int = 1, *extra: str) -> list:
    """``--cfg-options`` that point a synthetic config at ``root`` and make
    it tiny (batch 4, no workers, ``epochs`` epochs, 2 TTA scales)."""
    return [
        '--cfg-options', f'train_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0', f'train_cfg.max_epochs={epochs}',
        'default_hooks.logger.interval=1', *extra
    ]


def run_tool(args: list, **kwargs) -> str:
    """Run ``python ARGS`` from the repo root; fail with its output."""
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(f'{args} failed:\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-3000:]}')
    return proc.stdout + proc.stderr


def logged_scalars(work: str, key: str) -> dict:
    """``{iter: record}`` of the per-iteration scalars a run in ``work``
    logged (``vis_data/scalars.json``), from the records that hold ``key``
    (training iterations)."""
    import glob
    import json
    records = {}
    for path in glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json')):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if key in rec:
                    records[rec['iter']] = rec
    return records


@pytest.fixture(scope='session')
def vanilla_run(synthetic_root, tmp_path_factory):
    """(work dir, checkpoint) of a 1-epoch vanilla CAM run."""
    work = str(tmp_path_factory.mktemp('cam_work'))
    run_tool(['tools/train.py', CAM_CONFIG, '--work-dir', work,
              *data_opts(synthetic_root, 1, 'param_scheduler.0.end=1',
                         'model.test_cfg.scales=[1.0,0.5]')])
    with open(osp.join(work, 'last_checkpoint')) as f:
        return work, f.read().strip()


def pytest_configure(config) -> None:
    """Markers: ``cuda`` tests need a CUDA device (skipped without one;
    ``benchmarks/gpu_check.sh`` runs them with ``-m cuda``)."""
    config.addinivalue_line(
        'markers', 'cuda: needs a CUDA GPU (skipped without one)')
