"""The synthetic generator's out-of-distribution images (W-OoD) and that
adding them leaves the in-distribution data set unchanged."""
import hashlib
import json
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmwsss.synthetic import (OOD_DIR, OOD_LIST, generate_synthetic_voc,
                              render_ood_sample, render_sample)
from tests.conftest import load_tool
from tests.test_synthetic.test_synthetic_data import tree_bytes

PARAMS = dict(num_train=4, num_val=2, image_size=(32, 40), seed=5)
# Digests of the generator's output before the OoD option existed (commit
# 786aae6): the rendered arrays of (seed 7, images 0-3, 32-48 px) and the
# meta.json of PARAMS-like data (3 train, 1 val, 32-40 px, seed 5). They
# depend on numpy and json only, not on the JPEG/PNG encoders.
RENDER_SHA256 = ('6b5084d5a0dcb545ff78ecb45cc5479c'
                 '2f17de0697fc9602fe184e265dbb0839')
META_SHA256 = ('45b6e203b15435a47cb7cd803b7f5cdd'
               '75328964818b7fe2af41559680ec41df')


def read_ood_list(root):
    with open(osp.join(root, OOD_DIR, OOD_LIST)) as f:
        return [line.strip() for line in f if line.strip()]


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    """(root without OoD, root with 5 OoD images, summary of the latter)."""
    base = tmp_path_factory.mktemp('ood')
    plain, with_ood = str(base / 'plain'), str(base / 'with_ood')
    generate_synthetic_voc(plain, **PARAMS)
    summary = generate_synthetic_voc(with_ood, num_ood=5, **PARAMS)
    return plain, with_ood, summary


def test_default_output_unchanged(tmp_path):
    digest = hashlib.sha256()
    for index in range(4):
        image, label, boxes = render_sample(
            np.random.default_rng([7, index]), (32, 48))
        digest.update(image.tobytes())
        digest.update(label.tobytes())
        digest.update(repr(boxes).encode())
    assert digest.hexdigest() == RENDER_SHA256
    root = str(tmp_path / 'd')
    summary = generate_synthetic_voc(root, num_train=3, num_val=1,
                                     image_size=(32, 40), seed=5)
    with open(osp.join(root, 'meta.json'), 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest() == META_SHA256
    assert 'num_ood' not in summary and not osp.exists(
        osp.join(root, OOD_DIR))


def test_ood_leaves_in_distribution_bytes(pair):
    plain, with_ood, _ = pair
    a, b = tree_bytes(plain), tree_bytes(with_ood)
    extra = {k for k in b if k.startswith(OOD_DIR + '/')}
    assert set(b) - extra == set(a)
    for key in a:
        if key != 'meta.json':
            assert a[key] == b[key], key
    meta = json.loads(b['meta.json'])
    assert meta['params']['num_ood'] == 5
    assert meta['summary']['num_ood'] == 5


def test_ood_files_and_list(pair):
    _, root, summary = pair
    names = read_ood_list(root)
    assert names == [f'ood_{i:05d}.jpg' for i in range(5)]
    assert sorted(summary['ood_contexts']) == ['sky', 'water']
    assert sum(summary['ood_contexts'].values()) == 5
    kinds = []
    for i, name in enumerate(names):
        with Image.open(osp.join(root, OOD_DIR, 'JPEGImages', name)) as im:
            assert im.mode == 'RGB'
            decoded = np.asarray(im, np.float64)
        # the file is the render of its own stream (seed, index, 1)
        image, kind = render_ood_sample(
            np.random.default_rng([5, i, 1]), (32, 40))
        kinds.append(kind)
        assert decoded.shape == image.shape
        assert 32 <= image.shape[0] <= 40 and 32 <= image.shape[1] <= 40
        assert np.abs(decoded - image).mean() < 8  # JPEG error only
    assert {k: kinds.count(k) for k in ('water', 'sky')} == summary[
        'ood_contexts']


def test_ood_deterministic(pair, tmp_path):
    _, root, _ = pair
    again = str(tmp_path / 'again')
    generate_synthetic_voc(again, num_ood=5, **PARAMS)
    assert tree_bytes(again) == tree_bytes(root)
    # a longer OoD list extends the shorter one
    more = str(tmp_path / 'more')
    generate_synthetic_voc(more, num_ood=7, **PARAMS)
    a, b = tree_bytes(root), tree_bytes(more)
    for i in range(5):
        key = f'{OOD_DIR}/JPEGImages/ood_{i:05d}.jpg'
        assert a[key] == b[key]


def test_ood_streams_differ_from_in_distribution():
    """An OoD stream is never an in-distribution one (numpy would treat
    (seed, 1, 0) and (seed, 1) alike; the tag goes last)."""
    for index in range(3):
        ood = np.random.default_rng([5, index, 1]).random(4)
        for other in range(4):
            assert not np.allclose(
                ood, np.random.default_rng([5, other]).random(4))


def test_num_ood_regenerates_and_validates(tmp_path):
    root = str(tmp_path / 'd')
    generate_synthetic_voc(root, **PARAMS)
    out = generate_synthetic_voc(root, num_ood=2, **PARAMS)
    assert out['generated'] and len(read_ood_list(root)) == 2
    assert generate_synthetic_voc(root, num_ood=2, **PARAMS)[
        'generated'] is False
    with pytest.raises(ValueError, match='num_ood'):
        generate_synthetic_voc(root, num_ood=-1, **PARAMS)


def test_cli_num_ood(tmp_path, capsys):
    main = load_tool('generate_synthetic').main
    out = str(tmp_path / 'cli')
    summary = main([out, '--num-train', '2', '--num-val', '1', '--min-size',
                    '32', '--max-size', '32', '--num-ood', '3'])
    assert summary['num_ood'] == 3 and len(read_ood_list(out)) == 3
    assert 'ood_contexts' in capsys.readouterr().out
