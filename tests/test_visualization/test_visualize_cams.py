"""tools/visualize_cams.py: PNG overlays with a GT panel and legend."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmwsss.utils.cam_io import save_cam
from tests.conftest import CAM_CONFIG, REPO


def run(*args: str):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, 'tools/visualize_cams.py', *args],
                          cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
def test_png_overlays_with_gt(synthetic_root, tmp_path):
    split = osp.join(synthetic_root, 'ImageSets', 'Segmentation', 'train.txt')
    with open(split) as f:
        ids = [line.split()[0] for line in f if line.strip()][:2]
    cams = str(tmp_path / 'cams')
    for img_id in ids:
        with Image.open(osp.join(synthetic_root, 'JPEGImages',
                                 f'{img_id}.jpg')) as img:
            w, h = img.size
        save_cam(osp.join(cams, f'{img_id}.npz'),
                 np.random.rand(1, h, w).astype(np.float32), [1])
    opts = ['--cfg-options',
            f'test_dataloader.dataset.data_root={synthetic_root}']
    common = ['--cam-dir', cams, '--split', 'train', '--num', '2', *opts]

    out = str(tmp_path / 'png')
    proc = run(CAM_CONFIG, '--out-dir', out, *common)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(os.listdir(out)) == [f'{i}.png' for i in sorted(ids)]
    with Image.open(osp.join(out, f'{ids[0]}.png')) as img:
        with_gt = img.size
        assert img.format == 'PNG' and img.size[1] >= 192
    out_no = str(tmp_path / 'no_gt')
    proc = run(CAM_CONFIG, '--out-dir', out_no, '--no-gt', '--format',
               'jpg', *common)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with Image.open(osp.join(out_no, f'{ids[0]}.jpg')) as img:
        # image + GT + 1 CAM and a legend vs image + 1 CAM
        assert img.size[0] < with_gt[0] and img.size[1] < with_gt[1]

    proc = run(CAM_CONFIG, '--out-dir', out, '--cam-dir',
               str(tmp_path / 'none'), '--split', 'train', *opts)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert 'CAM file not found' in proc.stderr
