"""The stage table of a pipeline run: one row per stage whose evaluation
wrote ``{work_dir}/metrics/{name}.json`` (the demo's results table and the
HTML report)."""
import json
import os
import os.path as osp
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

# (row label, metrics file, mIoU key, note kind); keys with a '.' index
# nested summaries (tools/eval_saliency.py prints one per protocol);
# '{prior}' is the method whose CAMs the later stages refine.
ROWS: List[Tuple[str, str, str, Optional[str]]] = [
    ('CAMs, vanilla classifier', 'vanilla_cams', 'cam/mIoU', 'threshold'),
    ('CAMs, {prior} (priors)', 'cams', 'cam/mIoU', 'threshold'),
    ('priors + C²AM-H saliency (bg = 1 − s)', 'saliency',
     'cams_saliency.cams_saliency/mIoU', None),
    ('priors + refined saliency (bg = 1 − s)', 'saliency_refine',
     'cams_saliency.cams_saliency/mIoU', None),
    ('C²AM-H saliency, binary fg/bg', 'saliency', 'saliency.saliency/mIoU',
     'saliency'),
    ('refined saliency, binary fg/bg', 'saliency_refine',
     'saliency.saliency/mIoU', 'saliency'),
    ('affinity labels (labelled pixels only)', 'affinity_labels',
     'mask/mIoU', 'coverage'),
    ('random walk', 'rw', 'cam/mIoU', 'threshold'),
    ('pseudo-masks (random walk + CRF)', 'pseudo_masks', 'mask/mIoU', None),
    ('DeepLabV3+ on the pseudo-masks (val)', 'segmentation', 'mIoU', None),
    ('DeepLabV3+ on the true masks (val, ceiling)', 'supervised', 'mIoU',
     None),
]


class StageRow(NamedTuple):
    """One row of the stage table; ``miou`` is None when the stage has no
    metrics (not run, or its file lacks the key)."""
    label: str
    metrics_file: str
    miou: Optional[float]
    note: str


def lookup(metrics: Any, key: str) -> Any:
    """``metrics[key]``, following '.'-separated nested keys (None when a
    part is missing)."""
    value = metrics
    for part in key.split('.'):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def load_metrics(work_dir: str) -> Dict[str, dict]:
    """``{name: contents}`` of every ``{work_dir}/metrics/{name}.json``
    (empty when the folder does not exist)."""
    folder = osp.join(work_dir, 'metrics')
    out = {}
    if osp.isdir(folder):
        for name in sorted(os.listdir(folder)):
            if name.endswith('.json'):
                with open(osp.join(folder, name)) as f:
                    out[name[:-5]] = json.load(f)
    return out


def row_note(metrics: dict, note_kind: Optional[str]) -> str:
    """The note column of a row: the threshold, or the coverage."""
    if note_kind == 'threshold':
        best = metrics.get('cam/best_threshold')
        note = '' if best is None else f'best background threshold {best:.2f}'
        if metrics.get('cam/mIoU@fixed') is not None:
            note += f"; {metrics['cam/mIoU@fixed']:.2f} at the fixed one"
        return note.lstrip('; ')
    if note_kind == 'saliency':
        best = lookup(metrics, 'saliency.saliency/best_threshold')
        return '' if best is None else f'best threshold {best:.2f}'
    if note_kind == 'coverage':
        coverage = metrics.get('mask/coverage')
        return '' if coverage is None else \
            f'{coverage:.1f} % of the pixels labelled'
    return ''


def stage_rows(metrics: Dict[str, dict],
               prior: str = 'P-NOC') -> List[StageRow]:
    """Every row of :data:`ROWS`, in order, with its mIoU and note (None
    and '' for the stages without metrics); ``prior`` names the method of
    the ``cams`` row (P-NOC, W-OoD)."""
    rows = []
    for label, name, key, note_kind in ROWS:
        label = label.format(prior=prior)
        m = metrics.get(name) or {}
        value = lookup(m, key)
        if value is None:
            rows.append(StageRow(label, name, None, ''))
        else:
            rows.append(
                StageRow(label, name, float(value), row_note(m, note_kind)))
    return rows


def results_table(metrics: Dict[str, dict], prior: str = 'P-NOC') -> str:
    """Markdown table of the stages that have metrics."""
    lines = ['| stage | mIoU (%) | note |', '|---|---|---|']
    for row in stage_rows(metrics, prior):
        if row.miou is not None:
            lines.append(f'| {row.label} | {row.miou:.2f} | {row.note} |')
    return '\n'.join(lines)
