"""The stage table shared by tools/demo.py and the HTML report."""
import json

from mmwsss.pipeline.results import (ROWS, load_metrics, results_table,
                                     stage_rows)


def test_stage_rows_and_markdown(tmp_path):
    (tmp_path / 'metrics').mkdir()
    metrics = {
        'cams': {'cam/mIoU': 46.5, 'cam/best_threshold': 0.05,
                 'cam/mIoU@fixed': 34.22},
        'saliency': {'saliency': {'saliency/mIoU': 52.01,
                                  'saliency/best_threshold': 0.3}},
        'affinity_labels': {'mask/mIoU': 56.27, 'mask/coverage': 75.99},
        # a threshold row without its threshold: no crash, no note
        'rw': {'cam/mIoU': 47.49},
    }
    for name, m in metrics.items():
        (tmp_path / 'metrics' / f'{name}.json').write_text(json.dumps(m))
    (tmp_path / 'metrics' / 'notes.txt').write_text('ignored')
    loaded = load_metrics(str(tmp_path))
    assert loaded == metrics
    rows = stage_rows(loaded)
    assert [r.label for r in rows] == [label.format(prior='P-NOC')
                                       for label, *_ in ROWS]
    done = {r.label: r for r in rows if r.miou is not None}
    assert done['CAMs, P-NOC (priors)'].note == \
        'best background threshold 0.05; 34.22 at the fixed one'
    assert done['C²AM-H saliency, binary fg/bg'].note == 'best threshold 0.30'
    assert done['random walk'].note == ''
    assert len(done) == 4
    table = results_table(loaded).splitlines()
    assert table[:2] == ['| stage | mIoU (%) | note |', '|---|---|---|']
    assert table[2] == ('| CAMs, P-NOC (priors) | 46.50 | best background '
                        'threshold 0.05; 34.22 at the fixed one |')
    assert '| affinity labels (labelled pixels only) | 56.27 | 76.0 % of the '\
        'pixels labelled |' in table
    assert len(table) == 6
    # the W-OoD pipeline's table names its prior
    assert results_table(loaded, prior='W-OoD').splitlines()[2].startswith(
        '| CAMs, W-OoD (priors) | 46.50 |')
    assert load_metrics(str(tmp_path / 'none')) == {}
