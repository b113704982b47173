"""A self-contained HTML report of a pipeline run (``tools/make_report.py``,
the demo's last step).

It shows the stage table (:mod:`mmwsss.pipeline.results`), the threshold
curves of the CAM evaluations (:mod:`.curves`) and a grid of samples:
image / GT / CAM / random walk / pseudo-mask / prediction on the train
split, and image / GT / predictions on the validation split
(:mod:`.samples`). Images are PNG files beside the HTML, linked by
relative paths, so the folder can be opened from disk or moved whole.
What a run lacks (a stage not run, a folder missing) is left out with a
visible note, never an error. An inline script marks
``<div id="report-status">`` with ``data-ok="1"`` once every image has
loaded (``tools/check_report.py`` reads it in a headless browser).
"""
import html
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple
from urllib.parse import quote

import numpy as np

from mmwsss.pipeline.results import (ROWS, StageRow, load_metrics,
                                     stage_rows)
from mmwsss.utils.cam_io import CAM_SUFFIX
from mmwsss.utils.io import atomic_path, save_rgb_png
from .colorize import IGNORE_COLOUR, label_palette
from .curves import curve_summary, find_curves, plot_curve
from .panels import compose_row
from .samples import (Column, DataLayout, find_map_dir, gt_column,
                      prediction_dirs, read_split, sample_tiles)

#: Height of the sample tiles (pixels): rows of different image sizes line
#: up, and the captions stay readable when the browser shrinks a row.
TILE_HEIGHT = 200
#: id of the element the inline script marks when the page has loaded.
STATUS_ID = 'report-status'

STATUS_SCRIPT = """<script>
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (img) {
    return !(img.complete && img.naturalWidth > 0);
  }).map(function (img) { return img.getAttribute('src'); });
  var status = document.getElementById('%s');
  status.setAttribute('data-images', String(images.length));
  status.setAttribute('data-broken', JSON.stringify(broken));
  status.setAttribute('data-ok', broken.length ? '0' : '1');
  status.textContent = broken.length
    ? 'broken images: ' + broken.join(', ')
    : 'all ' + images.length + ' images loaded';
});
</script>""" % STATUS_ID

STYLE = """<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table.stages { border-collapse: collapse; }
table.stages th, table.stages td { border: 1px solid #bbb;
  padding: 0.25em 0.6em; }
table.stages td.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { background: #fff6d5; border-left: 4px solid #e0b000;
  padding: 0.3em 0.6em; }
p.about { margin: 0.2em 0; color: #444; }
.curves figure, .grid figure { margin: 0.5em 0 1em 0; }
.grid img, .curves img { max-width: 100%; height: auto; display: block; }
.legend span.swatch { display: inline-block; width: 1em; height: 1em;
  border: 1px solid #000; vertical-align: middle; margin: 0 0.3em 0 0.8em; }
#report-status { color: #777; font-size: small; margin-top: 2em; }
</style>"""


class Grid(NamedTuple):
    """A grid of samples of one split: the columns after the image and its
    GT, and the notes on what the run lacks."""
    key: str
    title: str
    split: str
    columns: List[Column]
    notes: List[str]
    about: Dict[str, str]  # column caption: what it shows (when shown)


class Report(NamedTuple):
    """What :func:`build_report` wrote: the HTML file, its number of
    ``<img>`` elements and of sample rows."""
    path: str
    images: int
    samples: int


def esc(text: object) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def rel_src(path: str, start: str) -> str:
    """Relative, URL-quoted and escaped ``src`` of ``path`` from the
    folder ``start``."""
    rel = osp.relpath(path, start).replace(osp.sep, '/')
    return esc(quote(rel))


def load_class_names(layout: DataLayout,
                     metrics: Dict[str, dict]) -> Optional[List[str]]:
    """Class names from ``{root}/classes.txt``, else from a curve JSON's
    ``classes``, else None (classes then show as numbers)."""
    path = osp.join(layout.root, 'classes.txt')
    if osp.isfile(path):
        with open(path) as f:
            names = [line.strip() for line in f if line.strip()]
        if names:
            return names
    for m in metrics.values():
        if isinstance(m.get('classes'), list) and m['classes']:
            return [str(c) for c in m['classes']]
    return None


def map_column(caption: str, kind: str, folder: str,
               notes: List[str]) -> Optional[Column]:
    """The column of the maps under ``folder``, or None with a note."""
    suffix = CAM_SUFFIX if kind == 'cam' else '.png'
    found = find_map_dir(folder, suffix)
    if found is None:
        notes.append(f'{caption}: no *{suffix} files in {folder}; column '
                     'omitted.')
        return None
    return Column(caption, kind, (found, ))


def train_grid(work_dir: str, split: str) -> Grid:
    """Image / GT / CAM / random walk / pseudo-mask / prediction."""
    notes: List[str] = []
    columns = []
    for caption, kind, name in (('CAM', 'cam', 'cams'),
                                ('random walk', 'cam', 'rw'),
                                ('pseudo-mask', 'label', 'pseudo_masks')):
        column = map_column(caption, kind, osp.join(work_dir, name), notes)
        if column is not None:
            columns.append(column)
    preds = prediction_dirs(osp.join(work_dir, 'segmentation'))
    if preds:
        columns.append(Column('prediction', 'label', preds))
    else:
        notes.append(f'prediction: no segmentor predictions in '
                     f"{osp.join(work_dir, 'segmentation', 'pred*')}; "
                     'column omitted.')
    about = {
        'CAM': 'CAM: the per-pixel maximum of the class maps.',
        'random walk': 'random walk: the same for the walked maps.',
        'prediction': 'prediction: the final segmentor on these training '
        'images (it was trained on their pseudo-masks; tools/test.py --out '
        'SEGMENTATION/pred_train writes them); the held-out grid shows '
        'unseen images.'
    }
    return Grid('train', f'Samples of the {split} split', split, columns,
                notes, about)


def val_grid(work_dir: str, split: str) -> Grid:
    """Image / GT / the segmentors' predictions on held-out images."""
    notes: List[str] = []
    columns = []
    for caption, stage in (('prediction', 'segmentation'),
                           ('true-mask model', 'supervised')):
        preds = prediction_dirs(osp.join(work_dir, stage))
        if preds:
            columns.append(Column(caption, 'label', preds))
        else:
            notes.append(f'{caption}: no predictions in '
                         f"{osp.join(work_dir, stage, 'pred*')}; column "
                         'omitted.')
    about = {
        'prediction': 'prediction: the segmentor trained on the '
        'pseudo-masks.',
        'true-mask model': 'true-mask model: the same network trained on '
        'the true masks (the fully supervised ceiling).'
    }
    return Grid('val', f'Held-out samples ({split} split)', split, columns,
                notes, about)


def select_samples(ids: Sequence[str], layout: DataLayout,
                   columns: Sequence[Column], num: int) -> List[str]:
    """Up to ``num`` ids whose image exists, those with the most column
    files first (split order among equals)."""
    present = [i for i in ids if osp.isfile(layout.image(i))]
    ranked = sorted(present,
                    key=lambda i: -sum(c.path(i) is not None
                                       for c in columns))
    return ranked[:num]


def stage_table_html(rows: Sequence[StageRow]) -> str:
    """The stage table, and a note naming the stages without metrics."""
    done = [r for r in rows if r.miou is not None]
    missing = [r for r in rows if r.miou is None]
    parts = []
    if done:
        lines = ['<table class="stages" id="stage-table">',
                 '<tr><th>stage</th><th>mIoU (%)</th><th>note</th></tr>']
        for r in done:
            lines.append(f'<tr data-metrics="{esc(r.metrics_file)}">'
                         f'<td>{esc(r.label)}</td>'
                         f'<td class="num">{r.miou:.2f}</td>'
                         f'<td>{esc(r.note)}</td></tr>')
        lines.append('</table>')
        parts.append('\n'.join(lines))
    if missing:
        names = '; '.join(f'{r.label} ({r.metrics_file}.json)'
                          for r in missing)
        parts.append(f'<p class="note" id="missing-stages">No metrics '
                     f'(stage not run or not finished): {esc(names)}.</p>')
    return '\n'.join(parts)


def legend_html(class_names: Sequence[str], palette: np.ndarray) -> str:
    """Class names with their colours, then the ignore colour."""
    entries = [(name, palette[i]) for i, name in enumerate(class_names)]
    entries.append(('ignore', IGNORE_COLOUR))
    spans = ''.join(
        f'<span class="swatch" style="background: rgb({int(c[0])}, '
        f'{int(c[1])}, {int(c[2])})"></span>{esc(name)}'
        for name, c in entries)
    return f'<p class="legend">Label colours:{spans}</p>'


def curve_title(name: str) -> str:
    """The stage label of curve ``{stage}_curve`` (its name otherwise)."""
    stage = name[:-len('_curve')] if name.endswith('_curve') else name
    label = next((label.format(prior='P-NOC')
                  for label, file, _, _ in ROWS if file == stage), name)
    return f'{label}: mIoU against the background threshold'


def curves_section(metrics: Dict[str, dict], out_dir: str) -> str:
    """Plot every threshold curve into ``{out_dir}/curves``; the section
    (a note when there is none)."""
    curves = find_curves(metrics)
    parts = ['<section class="curves" id="curves">',
             '<h2>Threshold curves</h2>']
    if not curves:
        parts.append('<p class="note">No threshold curves (metrics/'
                     '*_curve.json from tools/eval_cams.py --curve-out) in '
                     'this run.</p>')
    for name, curve in curves.items():
        path = osp.join(out_dir, 'curves', f'{name}.png')
        plot_curve(curve, curve_title(name), path)
        facts = '; '.join(curve_summary(curve))
        parts.append(
            f'<figure><img src="{rel_src(path, out_dir)}" alt="threshold '
            f'curve {esc(name)}"><figcaption>{esc(name)}.json: '
            f'{esc(facts)}</figcaption></figure>')
    parts.append('</section>')
    return '\n'.join(parts)


def grid_section(grid: Grid, layout: DataLayout,
                 num: int, class_names: Sequence[str],
                 palette: np.ndarray, out_dir: str) -> Tuple[str, int]:
    """Compose and save one PNG row per sample of ``grid``; (section HTML,
    number of rows)."""
    parts = [f'<section class="grid" id="grid-{esc(grid.key)}">',
             f'<h2>{esc(grid.title)}</h2>']
    split_file = layout.split_file(grid.split)
    if not osp.isfile(split_file):
        parts.append(f'<p class="note">No split list {esc(split_file)}: '
                     'no samples.</p></section>')
        return '\n'.join(parts), 0
    ids = select_samples(read_split(split_file), layout, grid.columns, num)
    notes, about = list(grid.notes), []
    columns = []
    for column in grid.columns:
        if any(column.path(i) is not None for i in ids):
            columns.append(column)
            if column.caption in grid.about:
                about.append(grid.about[column.caption])
        else:
            notes.append(f'{column.caption}: no files for these images in '
                         f'{", ".join(column.folders)}; column omitted.')
    parts += [f'<p class="about">{esc(a)}</p>' for a in about]
    parts += [f'<p class="note">{esc(n)}</p>' for n in notes]
    if not columns:  # the image and its GT alone say nothing about the run
        ids = []
    if not ids:
        parts.append('<p class="note">No samples to show for this split.'
                     '</p></section>')
        return '\n'.join(parts), 0
    for img_id in ids:
        tiles = sample_tiles(img_id, layout, [gt_column(layout), *columns],
                             class_names, palette)
        path = osp.join(out_dir, 'samples', grid.key, f'{img_id}.png')
        save_rgb_png(path, compose_row(tiles, tile_height=TILE_HEIGHT))
        captions = ', '.join(caption for caption, _ in tiles)
        parts.append(
            f'<figure><img src="{rel_src(path, out_dir)}" '
            f'alt="{esc(img_id)}: {esc(captions)}">'
            f'<figcaption>{esc(img_id)}</figcaption></figure>')
    parts.append('</section>')
    return '\n'.join(parts), len(ids)


def build_report(work_dir: str,
                 data_root: str,
                 out: Optional[str] = None,
                 num: int = 8,
                 split: str = 'train',
                 val_split: str = 'val',
                 layout: Optional[DataLayout] = None) -> Report:
    """Write the HTML report of the run in ``work_dir``.

    Args:
        work_dir: the pipeline's work folder (``metrics/``, ``cams/``,
            ``rw/``, ``pseudo_masks/``, ``segmentation/pred*`` ...).
        data_root: the VOC-layout data set the run used.
        out: the HTML file (default ``{work_dir}/report/index.html``); its
            images go beside it (``curves/``, ``samples/``).
        num: samples per grid.
        split: split of the CAM grid (one with GT masks and CAMs).
        val_split: split of the held-out grid.
        layout: the data set's folders (default: VOC names under
            ``data_root``).

    Raises:
        FileNotFoundError: ``work_dir`` or ``data_root`` does not exist.
    """
    for what, folder in (('work dir', work_dir), ('data root', data_root)):
        if not osp.isdir(folder):
            raise FileNotFoundError(f'{what} "{folder}" does not exist')
    out = out or osp.join(work_dir, 'report', 'index.html')
    out_dir = osp.dirname(osp.abspath(out))
    layout = layout or DataLayout(data_root)
    metrics = load_metrics(work_dir)
    class_names = load_class_names(layout, metrics) or []
    palette = label_palette()
    title = f'mmwsss report: {osp.basename(osp.abspath(work_dir))}'
    body = [
        f'<h1>{esc(title)}</h1>',
        f'<p>Work dir <code>{esc(osp.abspath(work_dir))}</code>, data '
        f'<code>{esc(osp.abspath(data_root))}</code>.</p>',
        '<section id="stages"><h2>Stages</h2>',
        stage_table_html(stage_rows(metrics)), '</section>',
        curves_section(metrics, out_dir)
    ]
    if class_names:
        body.append(legend_html(class_names, palette))
    rows = 0
    for grid in (train_grid(work_dir, split),
                 val_grid(work_dir, val_split)):
        section, count = grid_section(grid, layout, num,
                                      class_names, palette, out_dir)
        body.append(section)
        rows += count
    body.append(f'<div id="{STATUS_ID}" data-ok="0">images not checked '
                '(scripts off?)</div>')
    page = '\n'.join([
        '<!DOCTYPE html>', '<html lang="en">', '<head>',
        '<meta charset="utf-8">', f'<title>{esc(title)}</title>', STYLE,
        '</head>', '<body>', *body, STATUS_SCRIPT, '</body>', '</html>', ''
    ])
    with atomic_path(out) as tmp:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(page)
    return Report(out, page.count('<img '), rows)
