"""SAM mask generation (mmwsss.inference.sam_masks): the errors without
segment-anything or a checkpoint, and the call path with a tiny random SAM
when the package is installed (it is optional: those tests are skipped
otherwise). ``MMWSSS_SAM_CHECKPOINT`` (and ``MMWSSS_SAM_MODEL``, default
vit_h) runs one image through a real checkpoint."""
import inspect
import os
import sys

import numpy as np
import pytest

from mmwsss.inference.sam_masks import (SAM_GENERATOR_DEFAULTS,
                                        build_sam_generator,
                                        check_sam_checkpoint,
                                        generate_sam_masks,
                                        import_segment_anything)
from tests.test_inference.sam_helpers import (TINY_GENERATOR_SETTINGS,
                                              tiny_checkpoint, tiny_sam)


def test_missing_package_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, 'segment_anything', None)
    with pytest.raises(ImportError) as err:
        import_segment_anything()
    message = str(err.value)
    assert 'segment_anything' in message
    assert 'pip install segment-anything' in message and '--sam-dir' in message


def test_missing_checkpoint_names_the_path(tmp_path, monkeypatch):
    path = str(tmp_path / 'sam_vit_b.pth')
    with pytest.raises(FileNotFoundError) as err:
        check_sam_checkpoint(path, 'vit_b')
    assert path in str(err.value) and 'sam_vit_b_01ec64.pth' in str(err.value)
    with pytest.raises(ValueError, match='vit_h, vit_l, vit_b'):
        check_sam_checkpoint(path, 'vit_x')
    # the checkpoint is checked before the package is needed
    monkeypatch.setitem(sys.modules, 'segment_anything', None)
    with pytest.raises(FileNotFoundError, match='sam_vit_b.pth'):
        build_sam_generator(path, 'vit_b')
    open(path, 'wb').close()
    with pytest.raises(ImportError, match='segment-anything'):
        build_sam_generator(path, 'vit_b')


def test_defaults_are_the_generators_own():
    """CSRM runs amg.py without options: the generator's defaults."""
    sam_pkg = pytest.importorskip('segment_anything')
    params = inspect.signature(
        sam_pkg.SamAutomaticMaskGenerator.__init__).parameters
    for name, value in SAM_GENERATOR_DEFAULTS.items():
        assert params[name].default == value, name


@pytest.fixture
def tiny_registry(monkeypatch):
    """segment-anything's vit_b builder replaced by the tiny SAM."""
    sam_pkg = pytest.importorskip('segment_anything')
    monkeypatch.setitem(sam_pkg.sam_model_registry, 'vit_b', tiny_sam)
    return sam_pkg


def test_tiny_sam_call_path(tmp_path, tiny_registry):
    ckpt = tiny_checkpoint(str(tmp_path / 'tiny.pth'))
    generator = build_sam_generator(ckpt, 'vit_b', 'cpu',
                                    **TINY_GENERATOR_SETTINGS)
    assert generator.points_per_batch == 64  # a default kept
    assert generator.output_mode == 'binary_mask'
    # the checkpoint's weights, not the builder's initialisation
    import torch
    state = torch.load(ckpt, weights_only=True)
    for name, value in generator.predictor.model.state_dict().items():
        torch.testing.assert_close(value, state[name])
    image = (np.random.default_rng(0).random((24, 30, 3)) * 255).astype(
        np.uint8)
    masks = generate_sam_masks(generator, image)
    assert masks.dtype == bool and masks.ndim == 3
    assert masks.shape[1:] == (24, 30) and len(masks) > 0
    with pytest.raises(ValueError, match='uint8 RGB'):
        generate_sam_masks(generator, image[..., 0])


def test_tiny_sam_errors(tmp_path, tiny_registry):
    other = tiny_checkpoint(str(tmp_path / 'other.pth'), embed_dim=8)
    with pytest.raises(ValueError, match='does not load into a vit_b'):
        build_sam_generator(other, 'vit_b', 'cpu')
    ckpt = tiny_checkpoint(str(tmp_path / 'tiny.pth'))
    with pytest.raises(ValueError, match='points_per_sid'):
        build_sam_generator(ckpt, 'vit_b', 'cpu', points_per_sid=4)
    broken = tmp_path / 'broken.pth'
    broken.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='broken.pth'):
        build_sam_generator(str(broken), 'vit_b', 'cpu')


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get('MMWSSS_SAM_CHECKPOINT'),
                    reason='set MMWSSS_SAM_CHECKPOINT (and MMWSSS_SAM_MODEL, '
                    'default vit_h) to a segment-anything checkpoint')
def test_real_checkpoint():
    pytest.importorskip('segment_anything')
    generator = build_sam_generator(
        os.environ['MMWSSS_SAM_CHECKPOINT'],
        os.environ.get('MMWSSS_SAM_MODEL', 'vit_h'), points_per_side=8)
    image = np.zeros((96, 128, 3), np.uint8)
    image[20:70, 30:90] = (200, 40, 40)
    masks = generate_sam_masks(generator, image)
    assert masks.shape[1:] == (96, 128) and masks.dtype == bool
    # the red box is one of the segments
    box = np.zeros((96, 128), bool)
    box[20:70, 30:90] = True
    ious = [(m & box).sum() / (m | box).sum() for m in masks]
    assert max(ious) > 0.8


@pytest.fixture
def fake_sam_package(monkeypatch):
    """A stand-in ``segment_anything`` (a small torch module as vit_b, a
    generator that keeps its model): the checkpoint path runs without the
    optional package."""
    import types

    import torch
    import torch.nn as nn

    def build():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))

    package = types.ModuleType('segment_anything')
    package.sam_model_registry = dict(vit_b=build)
    package.SamAutomaticMaskGenerator = (
        lambda model, **options: types.SimpleNamespace(model=model,
                                                       **options))
    monkeypatch.setitem(sys.modules, 'segment_anything', package)
    return build


def test_sam_checkpoint_goes_through_the_one_loader(tmp_path,
                                                    fake_sam_package):
    """Strict: the model's tensors, all of them and no other; plain tensors
    only (weights_only); every failure is a ValueError naming the file and
    the model type."""
    import torch
    saved = fake_sam_package()
    for p in saved.parameters():
        p.data.uniform_()
    path = str(tmp_path / 'sam.pth')
    torch.save(saved.state_dict(), path)
    generator = build_sam_generator(path, 'vit_b', 'cpu')
    assert generator.output_mode == 'binary_mask'
    for name, value in generator.model.state_dict().items():
        assert torch.equal(value, saved.state_dict()[name]), name
    extra = dict(saved.state_dict(), **{'2.weight': torch.zeros(1)})
    torch.save(extra, str(tmp_path / 'extra.pth'))
    with pytest.raises(ValueError, match=r'extra.pth.*does not load into a '
                       r"vit_b.*no place in the model, e.g. \['2.weight'\]"):
        build_sam_generator(str(tmp_path / 'extra.pth'), 'vit_b', 'cpu')
    partial = {k: v for k, v in saved.state_dict().items() if k != '0.bias'}
    torch.save(partial, str(tmp_path / 'partial.pth'))
    with pytest.raises(ValueError, match=r"partial.pth.*\['0.bias'\]"):
        build_sam_generator(str(tmp_path / 'partial.pth'), 'vit_b', 'cpu')
    torch.save(dict(saved.state_dict(), note=object()),
               str(tmp_path / 'pickled.pth'))
    with pytest.raises(ValueError, match='pickled.pth.*vit_b'):
        build_sam_generator(str(tmp_path / 'pickled.pth'), 'vit_b', 'cpu')
