"""tools/make_affinity_labels.py on hand-built inputs and on the synthetic
set (CAMs of the vanilla run), then 2 iterations of the tiny AffinityNet
config with tools/train.py on those labels."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from mmwsss.utils.cam_io import cam_path, save_cam
from tests.conftest import (CAM_CONFIG, REPO, data_opts, load_tool,
                            read_indexed_png, run_tool)

tool = load_tool('make_affinity_labels')
AFF_CONFIG = osp.join(REPO, 'configs', 'affinity',
                      'affinitynet_tiny_synthetic.py')
H, W = 12, 16


def make_inputs(root, n=3):
    """CAMs, images and saliency maps whose labels (no CRF) are known.

    Columns 0-5: class 3 confident and salient; 6-9: salient, weak CAM;
    10-15: not salient, weak CAM. The last image has no class (K = 0).
    """
    cam_dir, img_dir, sal_dir = root / 'cams', root / 'img', root / 'sal'
    img_dir.mkdir(parents=True)
    sal_dir.mkdir()
    for i in range(n):
        img_id = f'img_{i}'
        cams = np.zeros((1, H, W), np.float32)
        cams[0, :, :6] = 0.9
        cams[0, :, 6:10] = 0.3
        cams[0, :, 10:] = 0.2
        if i == n - 1:
            save_cam(cam_path(str(cam_dir), img_id), cams[:0], [])
        else:
            save_cam(cam_path(str(cam_dir), img_id), cams, [3])
        sal = np.zeros((H, W), np.uint8)
        sal[:, :10] = 200
        Image.fromarray(sal).save(sal_dir / f'{img_id}.png')
        image = np.zeros((H, W, 3), np.uint8)  # one colour per region
        image[:, :6], image[:, 6:10], image[:, 10:] = 250, 120, 10
        Image.fromarray(image).save(img_dir / f'{img_id}.png')
    return str(cam_dir), str(img_dir), str(sal_dir)


def summary(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize('with_sal', [True, False])
def test_labels_from_dirs_and_resume(tmp_path, capsys, with_sal):
    cam_dir, img_dir, sal_dir = make_inputs(tmp_path)
    out = tmp_path / 'labels'
    args = ['--cam-dir', cam_dir, '--img-dir', img_dir, '--img-suffix',
            '.png', '--out-dir', str(out), '--no-crf']
    if with_sal:
        args += ['--sal-dir', sal_dir]
    assert tool.main(args) == 0
    assert summary(capsys)['no_class'] == 1
    assert sorted(os.listdir(out)) == [f'img_{i}.png' for i in range(3)]
    row = np.array([3] * 6 + [255] * 4 + ([0] * 6 if with_sal else
                                          [255] * 6))
    for i in range(2):
        got, palette = read_indexed_png(out / f'img_{i}.png')
        np.testing.assert_array_equal(got, np.tile(row, (H, 1)))
    assert palette[3].tolist() == [128, 128, 0]
    assert palette[255].tolist() == [224, 224, 192]
    # no class: all background
    np.testing.assert_array_equal(read_indexed_png(out / 'img_2.png')[0], 0)

    # resumable: existing outputs are kept, a removed one is redone
    before = (out / 'img_1.png').read_bytes()
    mtime = os.stat(out / 'img_1.png').st_mtime_ns
    os.remove(out / 'img_0.png')
    assert tool.main(args) == 0
    s = summary(capsys)
    assert (s['written'], s['skipped']) == (1, 2)
    assert (out / 'img_1.png').read_bytes() == before
    assert os.stat(out / 'img_1.png').st_mtime_ns == mtime
    assert not [f for f in os.listdir(out) if f.startswith('.')]


def test_crf_with_workers(tmp_path, capsys):
    pytest.importorskip('pydensecrf.densecrf')
    cam_dir, img_dir, sal_dir = make_inputs(tmp_path, n=5)
    out = tmp_path / 'labels'
    assert tool.main([
        '--cam-dir', cam_dir, '--img-dir', img_dir, '--img-suffix', '.png',
        '--sal-dir', sal_dir, '--out-dir', str(out), '--workers', '2'
    ]) == 0
    s = summary(capsys)
    assert (s['images'], s['written'], s['no_class']) == (5, 5, 1)
    got = read_indexed_png(out / 'img_0.png')[0]
    # the CRFs keep the colour regions apart
    np.testing.assert_array_equal(
        got, np.tile([3] * 6 + [255] * 4 + [0] * 6, (H, 1)))


def test_crf_options():
    base = ['--cam-dir', 'c', '--img-dir', 'i', '--out-dir', 'o']
    palette = np.zeros((256, 3), np.uint8)
    job = tool.AffinityLabelJob(tool.parse_args(base), palette)
    assert job.crf == dict(preset='crf_label', backend='pydensecrf')
    assert (job.fg_threshold, job.bg_threshold, job.gt_prob) == (0.4, 0.1,
                                                                 0.7)
    job = tool.AffinityLabelJob(tool.parse_args(base + [
        '--crf-iterations', '3', '--crf-backend', 'torch', '--crf-gt-prob',
        '0.9'
    ]), palette)
    assert job.crf == dict(preset='crf_label', backend='torch',
                           iterations=3)
    assert job.gt_prob == 0.9
    assert tool.AffinityLabelJob(
        tool.parse_args(base + ['--no-crf']), palette).crf is None
    with pytest.raises(SystemExit):
        tool.parse_args(base + ['--crf-iterations', '0'])


def test_clear_errors(tmp_path, capsys):
    cam_dir, img_dir, sal_dir = make_inputs(tmp_path)
    out = str(tmp_path / 'labels')
    base = ['--cam-dir', cam_dir, '--img-dir', img_dir, '--out-dir', out,
            '--img-suffix', '.png', '--no-crf']

    os.rename(osp.join(sal_dir, 'img_1.png'), osp.join(sal_dir, 'x.png'))
    assert tool.main(base + ['--sal-dir', sal_dir]) == 1
    err = capsys.readouterr().err
    assert '1 of 3 saliency maps missing' in err and 'img_1.png' in err
    assert not osp.exists(out)

    Image.fromarray(np.zeros((H, W + 1), np.uint8)).save(
        osp.join(sal_dir, 'img_1.png'))
    assert tool.main(base + ['--sal-dir', sal_dir]) == 1
    assert 'saliency size' in capsys.readouterr().err

    # labels written before a failure are valid and kept: start afresh
    for name in os.listdir(out):
        os.remove(osp.join(out, name))
    Image.fromarray(np.zeros((H + 2, W, 3), np.uint8)).save(
        osp.join(img_dir, 'img_0.png'))
    assert tool.main(base) == 1
    err = capsys.readouterr().err
    assert 'img_0.png' in err and '!= CAM size' in err

    os.remove(osp.join(img_dir, 'img_2.png'))
    assert tool.main(base) == 1
    assert '1 of 3 images missing' in capsys.readouterr().err

    assert tool.main(['--cam-dir', str(tmp_path / 'none'), '--img-dir',
                      img_dir, '--out-dir', out]) == 1
    assert 'CAM folder not found' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.main(base + ['--config', AFF_CONFIG])


# ------------------------------------------------------ synthetic end-to-end
@pytest.fixture(scope='module')
def synthetic_cams(synthetic_root, vanilla_run, tmp_path_factory):
    """TTA-free CAMs of the vanilla run on the synthetic train split."""
    _, ckpt = vanilla_run
    cams = str(tmp_path_factory.mktemp('aff_cams'))
    run_tool(['tools/infer_cams.py', CAM_CONFIG, ckpt, '--out-dir', cams,
              '--split', 'train', '--work-dir', cams + '_work',
              *data_opts(synthetic_root, 1, 'model.test_cfg.scales=[1.0]')])
    return cams


def test_synthetic_labels_and_tiny_training(synthetic_root, vanilla_run,
                                            synthetic_cams, tmp_path,
                                            capsys):
    labels = tmp_path / 'aff_labels'
    sal_dir = tmp_path / 'sal'
    sal_dir.mkdir()
    split = osp.join(synthetic_root, 'ImageSets', 'Segmentation',
                     'train.txt')
    with open(split) as f:
        ids = f.read().split()
    for img_id in ids:  # "saliency" = the GT foreground
        with Image.open(osp.join(synthetic_root, 'SegmentationClassAug',
                                 f'{img_id}.png')) as gt:
            fg = np.asarray(gt) > 0
        Image.fromarray((fg * 255).astype(np.uint8)).save(
            sal_dir / f'{img_id}.png')
    common = ['--cam-dir', synthetic_cams, '--config', AFF_CONFIG,
              '--split', 'train', '--cfg-options',
              f'test_dataloader.dataset.data_root={synthetic_root}']
    for out, extra in ((labels, ['--workers', '2']),
                       (tmp_path / 'aff_sal', ['--sal-dir', str(sal_dir)])):
        assert tool.main(['--out-dir', str(out), *extra, *common]) == 0
        s = summary(capsys)
        assert s['written'] == len(ids) == s['images']
        assert s['foreground_fraction'] > 0 and s['background_fraction'] > 0
        assert sorted(os.listdir(out)) == sorted(f'{i}.png' for i in ids)
        for img_id in ids:
            got, palette = read_indexed_png(out / f'{img_id}.png')
            assert set(np.unique(got)) <= set(range(7)) | {255}
        assert palette[1].tolist() == [128, 0, 0]  # synthetic metainfo
    # with the GT as saliency, non-salient pixels are mostly background
    bg_share = []
    for img_id in ids:
        sal = np.asarray(Image.open(sal_dir / f'{img_id}.png')) == 0
        got = read_indexed_png(tmp_path / 'aff_sal' / f'{img_id}.png')[0]
        bg_share.append((got[sal] == 0).mean())
    assert np.mean(bg_share) > 0.8

    # 2 iterations of the tiny config on these labels
    _, ckpt = vanilla_run
    work = str(tmp_path / 'aff_work')
    out = run_tool([
        'tools/train.py', AFF_CONFIG, '--work-dir', work,
        *data_opts(synthetic_root, 1,
                   'train_dataloader.dataset.ann_file='
                   'ImageSets/Segmentation/train.txt',
                   'train_dataloader.batch_size=3',
                   'train_dataloader.dataset.data_prefix.seg_map_path='
                   f'{labels}',
                   f'model.pretrained={ckpt}',
                   'default_hooks.checkpoint.interval=1',
                   'param_scheduler.0.end=1')
    ])
    assert f'loaded {ckpt} into ' in out  # the backbone
    assert 'loss_aff' in out
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
