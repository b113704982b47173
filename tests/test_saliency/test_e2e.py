"""Tiny end to end through the command-line tools: C²AM-H training with
tools/train.py (hints from stored CAMs) → TTA saliency PNGs (resumable) →
pseudo-saliency masks (threshold + CRF, 2 workers) → evaluation (binary and
CAMs + saliency) → one refinement iteration of a stock MMSeg segmentor on
the masks → its saliency PNGs."""
import glob
import json
import os
import os.path as osp
import re
import sys

import numpy as np
import pytest
from PIL import Image

from mmwsss.utils.cam_io import cam_path, save_cam
from tests.conftest import REPO, data_opts, load_tool, run_tool

C2AM_H = osp.join(REPO, 'configs', 'c2am', 'c2am_h_tiny_synthetic.py')
REFINE = osp.join(REPO, 'configs', 'c2am', 'saliency_refine_tiny_synthetic.py')

# end-to-end tool runs (subprocesses): deselect with -m 'not slow'
pytestmark = pytest.mark.slow


def ids(root: str, split: str) -> list:
    with open(osp.join(root, 'ImageSets', 'Segmentation',
                       f'{split}.txt')) as f:
        return [line.strip() for line in f if line.strip()]


def read_png(path: str) -> np.ndarray:
    with Image.open(path) as img:
        assert img.mode in ('L', 'P'), path
        return np.asarray(img)


def image_size(root: str, img_id: str) -> tuple:
    with Image.open(osp.join(root, 'JPEGImages', f'{img_id}.jpg')) as img:
        return img.size[::-1]


def gt_cams(root: str, out_dir: str) -> None:
    """CAM files drawn from the GT masks: 0.9 on a class's pixels, 0.1
    elsewhere (stand-ins for a CAM model's output)."""
    for img_id in ids(root, 'train_aug'):
        gt = read_png(osp.join(root, 'SegmentationClassAug', f'{img_id}.png'))
        keys = [int(k) for k in np.unique(gt) if 0 < k < 255]
        cams = np.stack([np.where(gt == k, 0.9, 0.1) for k in keys])
        save_cam(cam_path(out_dir, img_id), cams.astype(np.float32), keys)


@pytest.fixture(scope='module')
def saliency_run(synthetic_root, tmp_path_factory):
    """(work folder, C²AM-H checkpoint, train_aug CAMs, saliency maps)."""
    os.environ['OMP_NUM_THREADS'] = '1'  # tiny nets: threads only cost
    work = tmp_path_factory.mktemp('c2am')
    cams = str(work / 'cams')
    gt_cams(synthetic_root, cams)
    log = run_tool([
        'tools/train.py', C2AM_H, '--work-dir', str(work / 'train'),
        *data_opts(synthetic_root, 1, 'param_scheduler.0.end=1',
                   f'train_dataloader.dataset.pipeline.1.cam_dir={cams}',
                   'model.pretrained=None')
    ])
    assert 'loss_hint' in log
    with open(work / 'train' / 'last_checkpoint') as f:
        ckpt = f.read().strip()
    sal = str(work / 'sal')
    infer = load_tool('infer_saliency')
    assert infer.main([
        C2AM_H, ckpt, '--out-dir', sal, '--split', 'train_aug',
        '--work-dir', str(work / 'w1'),
        *data_opts(synthetic_root, 1, 'model.test_cfg.scales=[1.0,0.5]')
    ]) == 0
    yield work, ckpt, cams, sal
    os.environ.pop('OMP_NUM_THREADS', None)


def test_saliency_maps_are_full_size_grey_pngs(saliency_run, synthetic_root,
                                               tmp_path):
    _, ckpt, _, sal = saliency_run
    names = ids(synthetic_root, 'train_aug')
    assert sorted(os.listdir(sal)) == sorted(f'{i}.png' for i in names)
    for img_id in names[:4]:
        grey = read_png(osp.join(sal, f'{img_id}.png'))
        assert grey.shape == image_size(synthetic_root, img_id)
        assert grey.max() == 255  # max-normalised
    # resumable: only a deleted map is pending (shared helper)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmwsss')
    cfg = Config.fromfile(C2AM_H)
    ds = cfg.test_dataloader.dataset
    ds.update(data_root=synthetic_root, ann_file=cfg.data_splits.train_aug)
    from mmwsss.apis.tool_utils import pending_indices
    from mmwsss.utils.saliency_io import saliency_path
    assert pending_indices(ds.to_dict(),
                           lambda i: saliency_path(sal, i))[0] == []
    import shutil
    copy = str(tmp_path / 'sal')
    shutil.copytree(sal, copy)  # the shared maps stay complete
    os.remove(osp.join(copy, f'{names[3]}.png'))
    todo, total = pending_indices(ds.to_dict(),
                                  lambda i: saliency_path(copy, i))
    assert len(todo) == 1 and total == len(names)


def test_pseudo_saliency_eval_and_refinement(saliency_run, synthetic_root,
                                             tmp_path, capsys, monkeypatch):
    work, _, cams, sal = saliency_run
    masks = str(tmp_path / 'masks')
    make = load_tool('make_pseudo_saliency')
    assert make.main([
        '--sal-dir', sal, '--out-dir', masks, '--threshold', '0.2', '--crf',
        '--img-dir', osp.join(synthetic_root, 'JPEGImages'), '--workers', '2'
    ]) == 0
    files = sorted(glob.glob(osp.join(masks, '*.png')))
    assert len(files) == len(os.listdir(sal))
    values = set()
    for path in files:
        values |= set(np.unique(read_png(path)).tolist())
    assert values <= {0, 255} and 255 in values

    evaluate = load_tool('eval_saliency')
    capsys.readouterr()
    assert evaluate.main([C2AM_H, '--sal-dir', sal, '--cam-dir', cams,
                          '--split', 'train', '--cfg-options',
                          f'test_dataloader.dataset.data_root='
                          f'{synthetic_root}']) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 <= summary['saliency']['saliency/mIoU'] <= 100
    assert 'saliency/best_threshold' in summary['saliency']
    assert 0 <= summary['cams_saliency']['cams_saliency/mIoU'] <= 100

    # refinement: a stock MMSeg segmentor, one iteration on the masks
    refine_work = str(tmp_path / 'refine')
    opts = [
        '--cfg-options',
        f'train_dataloader.dataset.data_root={synthetic_root}',
        f'train_dataloader.dataset.data_prefix.seg_map_path={masks}',
        f'test_dataloader.dataset.data_root={synthetic_root}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0', 'train_cfg.max_iters=1',
        'param_scheduler.0.end=1', 'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1'
    ]
    # tools/train.py in this process (the C²AM-H run above went through
    # the command line already)
    train = load_tool('train')
    monkeypatch.setattr(sys, 'argv', ['train.py', REFINE, '--work-dir',
                                      refine_work, *opts])
    assert train.main() == 0
    ckpt = osp.join(refine_work, 'iter_1.pth')
    logs = glob.glob(osp.join(refine_work, '*', '*.log'))
    with open(logs[0]) as f:
        assert re.search(r'Iter\(train\) \[1/1\].*loss:', f.read())
    refined = str(tmp_path / 'refined')
    infer = load_tool('infer_saliency')
    assert infer.main([REFINE, ckpt, '--out-dir', refined, '--split',
                       'train', '--work-dir', str(tmp_path / 'w'),
                       *opts]) == 0
    names = ids(synthetic_root, 'train')
    assert sorted(os.listdir(refined)) == sorted(f'{i}.png' for i in names)
    grey = read_png(osp.join(refined, f'{names[0]}.png'))
    assert grey.shape == image_size(synthetic_root, names[0])
