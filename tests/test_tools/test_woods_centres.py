"""tools/woods_centres.py: class and OoD centres of a CAM classifier on the
synthetic set (with OoD images), the side file, determinism and errors."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmwsss.inference import load_centres, save_centres
from mmwsss.inference.features import extract_gap_features
from mmwsss.models.utils import class_centres
from mmwsss.registry import DATASETS, MODELS
from mmwsss.synthetic import generate_synthetic_voc
from mmwsss.utils.errors import DataError
from tests.conftest import CAM_CONFIG, load_tool

tool = load_tool('woods_centres')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """(data root, checkpoint of a randomly initialised tiny CAM model)."""
    base = tmp_path_factory.mktemp('woods')
    root = str(base / 'data')
    generate_synthetic_voc(root, num_train=16, num_val=2,
                           image_size=(40, 56), num_ood=8, seed=1)
    init_default_scope('mmwsss')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CAM_CONFIG).model)
    ckpt = str(base / 'cam.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)
    return root, ckpt


def run(setup, out, *extra):
    root, ckpt = setup
    return tool.main([
        CAM_CONFIG, ckpt, '--out', out, '--ood-root',
        osp.join(root, 'OoD'), '--num-clusters', '3', '--device', 'cpu',
        *extra, '--cfg-options', f'train_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'
    ])


def test_centres_file(setup, tmp_path, capsys):
    out = str(tmp_path / 'centres.pth')
    assert run(setup, out) == 0
    assert '6 class centres, 3 OoD centres of dimension 128' in (
        capsys.readouterr().out)
    centres = load_centres(out, num_classes=6, feature_dim=128)
    assert centres.class_centres.shape == (6, 128)
    assert centres.ood_centres.shape == (3, 128)
    assert centres.class_centres.dtype == torch.float32
    meta = centres.meta
    assert meta['num_clusters'] == 3 and meta['seed'] == 0
    assert meta['feature_dim'] == 128 and meta['num_ood_images'] == 8
    assert meta['classes'] == ['kite', 'boat', 'cup', 'leaf', 'star', 'fish']
    assert sum(meta['class_image_counts']) >= 16
    assert 'k-means++' in meta['kmeans_init']
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]

    # the class centres are the class means of the un-augmented features
    root, ckpt = setup
    cfg = Config.fromfile(CAM_CONFIG)
    cfg.train_dataloader.dataset.data_root = root
    init_default_scope('mmwsss')
    model = MODELS.build(cfg.model)
    model.load_state_dict(torch.load(ckpt)['state_dict'])
    dataset = DATASETS.build(
        dict(cfg.train_dataloader.dataset,
             pipeline=cfg.test_dataloader.dataset.pipeline))
    feats, labels, ids = extract_gap_features(model, dataset)
    assert len(ids) == len(dataset) and feats.shape[1] == 128
    expected, _ = class_centres(feats, labels)
    assert torch.allclose(centres.class_centres, expected.float(),
                          atol=1e-5)


def test_deterministic_and_independent_of_the_list_order(setup, tmp_path):
    root, _ = setup
    a, b = str(tmp_path / 'a.pth'), str(tmp_path / 'b.pth')
    assert run(setup, a) == 0 and run(setup, b) == 0
    ca, cb = load_centres(a), load_centres(b)
    assert torch.equal(ca.class_centres, cb.class_centres)
    assert torch.equal(ca.ood_centres, cb.ood_centres)
    # the OoD list reversed: the same clusters
    with open(osp.join(root, 'OoD', 'ood_list.txt')) as f:
        names = f.read().split()
    with open(osp.join(root, 'OoD', 'reversed.txt'), 'w') as f:
        f.write('\n'.join(names[::-1]) + '\n')
    rev = str(tmp_path / 'rev.pth')
    assert run(setup, rev, '--ood-list', 'reversed.txt') == 0
    assert torch.equal(load_centres(rev).ood_centres, ca.ood_centres)
    # the OoD set of the config (ood_dataset) instead of --ood-root
    from_cfg = str(tmp_path / 'cfg.pth')
    assert tool.main([
        CAM_CONFIG, setup[1], '--out', from_cfg, '--num-clusters', '3',
        '--device', 'cpu', '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'ood_dataset.type=OoDDataset',
        f'ood_dataset.data_root={osp.join(root, "OoD")}'
    ]) == 0
    assert torch.equal(load_centres(from_cfg).ood_centres, ca.ood_centres)
    # the seed is recorded
    seeded = str(tmp_path / 'seeded.pth')
    assert run(setup, seeded, '--seed', '1') == 0
    assert load_centres(seeded).meta['seed'] == 1


def test_user_errors(setup, tmp_path, capsys):
    root, ckpt = setup
    out = str(tmp_path / 'x.pth')
    assert run(setup, out, '--num-clusters', '9') == 1
    assert '8 OoD images cannot make 9 clusters' in capsys.readouterr().err
    assert tool.main([CAM_CONFIG, ckpt, '--out', out, '--cfg-options',
                      f'train_dataloader.dataset.data_root={root}']) == 1
    assert 'give --ood-root' in capsys.readouterr().err
    assert tool.main([CAM_CONFIG, str(tmp_path / 'none.pth'), '--out', out,
                      '--ood-root', root]) == 1
    assert 'does not exist' in capsys.readouterr().err
    assert run(setup, out, '--ood-list', 'missing.txt') == 1
    err = capsys.readouterr().err
    assert 'missing.txt' in err and '--num-ood' in err
    assert not osp.exists(out)


def test_load_centres_checks(tmp_path):
    path = str(tmp_path / 'c.pth')
    with pytest.raises(FileNotFoundError, match='tools/woods_centres.py'):
        load_centres(path)
    save_centres(path, torch.zeros(3, 4), torch.ones(5, 4), dict(seed=0))
    loaded = load_centres(path, num_classes=3, feature_dim=4)
    assert loaded.meta['version'] == 1 and loaded.meta['feature_dim'] == 4
    with pytest.raises(DataError, match='3 class centres but the model has '
                       '20'):
        load_centres(path, num_classes=20)
    with pytest.raises(DataError, match='dimension 4 but the classifier has '
                       '2048'):
        load_centres(path, feature_dim=2048)
    torch.save(dict(a=1), path)
    with pytest.raises(DataError, match='not a W-OoD centres file'):
        load_centres(path)
    with open(path, 'w') as f:
        f.write('junk')
    with pytest.raises(DataError, match='cannot read'):
        load_centres(path)
    with pytest.raises(ValueError, match='C x D and K x D'):
        save_centres(path, torch.zeros(3, 4), torch.zeros(5, 2), {})
