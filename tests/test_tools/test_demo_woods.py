"""tools/demo_woods.py: its stages (the W-OoD pipeline's, the centres once,
the control differing from W-OoD only in the two loss weights) and the
results table read from eval_cams outputs."""
import argparse
import json
import os

import pytest

from tests.conftest import load_tool

demo = load_tool('demo_woods')


def test_control_differs_only_in_the_woods_weights(tmp_path):
    work = tmp_path / 'w'
    data = tmp_path / 's'
    (data / 'OoD').mkdir(parents=True)
    (data / 'OoD' / 'ood_list.txt').write_text('a\n')
    for name in ('vanilla', 'woods', 'control'):
        (work / name).mkdir(parents=True)
        (work / name / 'last_checkpoint').write_text(f'/x/{name}.pth')
    stages = {s.name: s for s in demo.WOoDDemo(argparse.Namespace(
        work_dir=str(work), data_root=str(data))).stages()}
    assert list(stages) == [
        'vanilla', 'centres', 'woods', 'cams', 'affinity_labels', 'affinity',
        'rw', 'pseudo_masks', 'segmentation', 'supervised', 'control',
        'cams_vanilla', 'cams_control', 'cams_woods']
    woods = stages['woods'].build()[0].resolve()
    control = stages['control'].build()[0].resolve()
    assert 'model.init_checkpoint=/x/vanilla.pth' in woods
    assert f'custom_hooks.1.centres_file={work}/centres.pth' in woods
    centres = stages['centres'].build()[0].resolve()
    assert centres[centres.index('--out') + 1] == f'{work}/centres.pth'
    extra = [a for a in control if a not in woods]
    assert extra == [str(work / 'control'),
                     'model.metric_loss.loss_weight=0.0',
                     'model.ood_loss.loss_weight=0.0']
    assert [a for a in woods if a not in control] == [str(work / 'woods')]
    # the vanilla CAMs come from the CAM config, the others from W-OoD's;
    # W-OoD's own are the pipeline's, scored only
    assert demo.CAM_CONFIG in stages['cams_vanilla'].build()[0].resolve()
    (first, ) = stages['cams_woods'].build()[:1]
    argv = first.resolve()
    assert argv[1] == 'tools/eval_cams.py' and demo.WOODS_CONFIG in argv
    assert argv[argv.index('--cam-dir') + 1] == str(work / 'cams' /
                                                    'train_aug')


def write_metrics(folder, name, best, fixed, miou):
    """eval_cams outputs: classes bg, kite, boat at thresholds 0.1, 0.25."""
    with open(folder / f'{name}_train.json', 'w') as f:
        json.dump({'cam/mIoU': miou, 'cam/best_threshold': 0.1,
                   'cam/mIoU@fixed': miou - 5}, f)
    with open(folder / f'{name}_train_curve.json', 'w') as f:
        json.dump(dict(classes=['background', 'kite', 'boat'],
                       thresholds=[0.1, 0.25], best_threshold=0.1,
                       fixed_threshold=0.25,
                       Precision=[[0.9, best, 0.5], [0.9, fixed, None]],
                       IoU=[[0.8, 0.2, 0.3], [0.8, 0.1, 0.4]]), f)


def test_results_table_reads_precision_at_both_thresholds(tmp_path,
                                                          monkeypatch):
    folder = tmp_path / 'work' / 'metrics'
    os.makedirs(folder)
    for i, (name, _) in enumerate(demo.MODELS):
        write_metrics(folder, name, 0.3 + i / 10, 0.25 + i / 10, 40.0 + i)
    monkeypatch.setattr(demo, 'ROOT', str(tmp_path))
    lines = demo.cam_table('work', 'train').splitlines()
    assert len(lines) == 2 + len(demo.MODELS)
    assert lines[0].startswith('| model | mIoU best (t) | mIoU fixed | '
                               'kite P / IoU best')
    woods = lines[-1].split(' | ')
    assert woods[1:] == ['42.00 (0.1)', '37.00', '50.0 / 20.0',
                         '45.0 / 10.0', '50.0 / 30.0', '— / 40.0 |']
    with pytest.raises(FileNotFoundError):
        demo.cam_table('work', 'train_aug')
