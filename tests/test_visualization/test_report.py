"""The HTML report of a run, built from a tiny fake work dir: structure,
images on disk, escaping, missing stages, the tool's errors, and (when a
Chromium exists) loading it in a headless browser."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image

from mmwsss.utils.cam_io import save_cam
from mmwsss.utils.io import save_indexed_png
from mmwsss.visualization import label_palette
from mmwsss.visualization.report import build_report
from tests.conftest import REPO, load_tool

# ids with characters that need URL quoting / HTML escaping
TRAIN_IDS = ('a#1', 'b&2')
VAL_IDS = ('c3', )
CLASSES = ('background', 'kite', 'b<o>at&')


class Page(HTMLParser):
    """Tags, image sources and text of an HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.images, self.ids, self.rows, self.notes = [], [], [], []
        self._cell, self._note = None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'img':
            self.images.append(attrs['src'])
        if 'id' in attrs:
            self.ids.append(attrs['id'])
        if tag == 'tr':
            self.rows.append([])
        if tag == 'td':
            self._cell = ''
        if tag == 'p' and attrs.get('class') == 'note':
            self._note = ''

    def handle_endtag(self, tag):
        if tag == 'td':
            self.rows[-1].append(self._cell)
            self._cell = None
        if tag == 'p' and self._note is not None:
            self.notes.append(self._note)
            self._note = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._note is not None:
            self._note += data


def write_label(path: str, label: np.ndarray) -> None:
    save_indexed_png(path, label, label_palette())


@pytest.fixture
def fake_run(tmp_path):
    """(work dir, data root) of a run with CAMs, one random-walk file,
    pseudo-masks, val predictions and three metrics files."""
    rng = np.random.RandomState(0)
    data, work = tmp_path / 'data', tmp_path / 'work'
    for sub in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        os.makedirs(data / sub)
    (data / 'classes.txt').write_text('\n'.join(CLASSES) + '\n')
    (data / 'ImageSets/Segmentation/train.txt').write_text(
        '\n'.join(TRAIN_IDS) + '\n')
    (data / 'ImageSets/Segmentation/val.txt').write_text(
        '\n'.join(VAL_IDS) + '\n')
    label = np.zeros((40, 48), np.uint8)
    label[8:30, 10:36] = 2
    label[7, 10:36] = 255
    for img_id in TRAIN_IDS + VAL_IDS:
        Image.fromarray(rng.randint(0, 255, (40, 48, 3), np.uint8)).save(
            data / 'JPEGImages' / f'{img_id}.jpg')
        write_label(str(data / 'SegmentationClass' / f'{img_id}.png'), label)
    cams = rng.rand(2, 40, 48).astype(np.float32)
    for img_id in TRAIN_IDS:
        save_cam(str(work / 'cams' / 'train_aug' / f'{img_id}.npz'), cams,
                 [1, 2])
        write_label(str(work / 'pseudo_masks' / f'{img_id}.png'), label)
    save_cam(str(work / 'rw' / 'train_aug' / f'{TRAIN_IDS[0]}.npz'), cams,
             [1, 2])
    write_label(str(work / 'segmentation' / 'pred' / f'{VAL_IDS[0]}.png'),
                label)
    metrics = {
        'cams': {'cam/mIoU': 46.5, 'cam/best_threshold': 0.05,
                 'cam/mIoU@fixed': 34.22},
        'cams_curve': {'thresholds': [0.1, 0.2, 0.3], 'mIoU': [40, 45, 42],
                       'mIoU_fg': [30, 35, 31], 'best_threshold': 0.2,
                       'fixed_threshold': 0.3, 'classes': list(CLASSES),
                       'num_images': 2},
        'segmentation': {'mIoU': 48.26, 'aAcc': 76.8},
    }
    os.makedirs(work / 'metrics')
    for name, m in metrics.items():
        (work / 'metrics' / f'{name}.json').write_text(json.dumps(m))
    return str(work), str(data)


def test_report_structure(fake_run, tmp_path):
    work, data = fake_run
    out = str(tmp_path / 'out' / 'index.html')
    report = build_report(work, data, out, num=8)
    assert report.path == out and report.samples == 3
    with open(out, encoding='utf-8') as f:
        text = f.read()
    page = Page(text)
    for section in ('stage-table', 'missing-stages', 'curves', 'grid-train',
                    'grid-val', 'report-status'):
        assert section in page.ids
    # the stage table: the stages with metrics, in ROWS order
    assert [r[0] for r in page.rows if r] == [
        'CAMs, P-NOC (priors)', 'DeepLabV3+ on the pseudo-masks (val)']
    assert page.rows[1][1:] == [
        '46.50', 'best background threshold 0.05; 34.22 at the fixed one']
    missing = ' '.join(page.notes)
    assert 'random walk (rw.json)' in missing
    assert 'prediction: no files for these images' in missing
    assert 'true-mask model: no predictions' in missing
    # every image exists beside the HTML: 1 curve + 2 train + 1 val rows
    assert report.images == len(page.images) == 4
    for src in page.images:
        assert not osp.isabs(src)
        assert osp.isfile(osp.join(osp.dirname(out), unquote(src))), src
    assert 'samples/train/a%231.png' in page.images
    # escaped names: no raw markup from the data
    assert 'b&lt;o&gt;at&amp;' in text and '<o>' not in text
    assert 'b&amp;2' in text


def test_sample_rows_have_a_tile_per_column(fake_run, tmp_path):
    work, data = fake_run
    out = str(tmp_path / 'index.html')
    build_report(work, data, out)
    # image, GT, CAM, random walk, pseudo-mask (no train predictions)
    with Image.open(tmp_path / 'samples' / 'train' / 'a#1.png') as img:
        width, height = img.size
    assert height > 200 and width > 5 * 200 * 48 / 40
    assert width < 6 * 200 * 48 / 40
    # the second sample has no random-walk file: a placeholder tile
    with Image.open(tmp_path / 'samples' / 'train' / 'b&2.png') as img:
        assert img.size == (width, height)
    with Image.open(tmp_path / 'curves' / 'cams_curve.png') as img:
        assert img.format == 'PNG' and img.size[0] > 300


def test_empty_work_dir_gives_notes_not_errors(fake_run, tmp_path):
    _, data = fake_run
    work = tmp_path / 'empty'
    work.mkdir()
    report = build_report(str(work), data)
    assert report.path == str(work / 'report' / 'index.html')
    assert report.samples == 0 and report.images == 0
    page = Page(open(report.path, encoding='utf-8').read())
    assert 'stage-table' not in page.ids
    notes = ' '.join(page.notes)
    assert 'No threshold curves' in notes and 'CAM: no *.npz' in notes
    assert 'No samples to show' in notes


def run_tool(*args: str):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_make_report_cli(fake_run, tmp_path):
    work, data = fake_run
    proc = run_tool('tools/make_report.py', work, '--data-root', data,
                    '--num', '1')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert osp.isfile(osp.join(work, 'report', 'index.html'))
    assert '2 samples' in proc.stdout

    missing = str(tmp_path / 'no_such_run')
    proc = run_tool('tools/make_report.py', missing, '--data-root', data)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    (line, ) = [ln for ln in proc.stderr.splitlines() if 'error:' in ln]
    assert missing in line and 'work dir' in line and 'does not exist' in line


def test_check_dom_reports_broken_images():
    check = load_tool('check_report')
    ok = ('<div id="report-status" data-ok="1" data-images="1" '
          'data-broken="[]"></div><img src="a.png">')
    assert check.check_dom(ok) == '1 images loaded'
    broken = ('<div id="report-status" data-ok="0" data-images="2" '
              'data-broken=\'["x.png"]\'></div>')
    with pytest.raises(ValueError, match='1 of 2 images did not load: x.png'):
        check.check_dom(broken)
    with pytest.raises(ValueError, match='never updated'):
        check.check_dom('<div id="report-status" data-ok="0"></div>')
    with pytest.raises(ValueError, match='no element'):
        check.check_dom('<p>hello</p>')


CHROMIUM = load_tool('check_report').find_chromium()


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None or not shutil.which(CHROMIUM),
    reason='no Chromium (set $CHROMIUM or install one, e.g. apt-get install '
    'chromium; see README "The report")')
def test_report_loads_in_headless_chromium(fake_run, tmp_path):
    work, data = fake_run
    out = str(tmp_path / 'report' / 'index.html')
    build_report(work, data, out)
    shot = str(tmp_path / 'shot.png')
    proc = run_tool('tools/check_report.py', out, '--screenshot', shot,
                    '--window-size', '1200,1600')
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert '4 images loaded' in proc.stdout
    with Image.open(shot) as img:
        assert img.size == (1200, 1600)

    # a missing image fails, naming it
    os.remove(osp.join(tmp_path, 'report', 'samples', 'val', 'c3.png'))
    proc = run_tool('tools/check_report.py', out)
    assert proc.returncode == 1
    (line, ) = [ln for ln in proc.stderr.splitlines() if 'error:' in ln]
    assert 'samples/val/c3.png' in line and '1 of 4 images' in line
