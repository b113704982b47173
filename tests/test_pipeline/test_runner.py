"""StageRunner: order, skip/resume, failure messages, metrics capture;
PNOCPipeline: commands built from a pipeline config."""
import json
import os.path as osp
import sys

import pytest
from mmengine.config import Config

from mmwsss.pipeline import (Command, PipelineError, PNOCPipeline, Stage,
                             StageRunner)
from tests.conftest import REPO


def py(code: str) -> list:
    return [sys.executable, '-c', code]


def touch_stage(name: str, folder: str, log: list, **kw) -> Stage:
    """A stage appending its name to a file (to count runs)."""
    def build():
        log.append(name)
        return [Command(py(f'open({str(folder)!r} + "/runs", "a")'
                           f'.write("{name}\\n")'))]
    return Stage(name, f'stage {name}', build, **kw)


def runs(folder) -> list:
    path = osp.join(str(folder), 'runs')
    return open(path).read().split() if osp.exists(path) else []


def test_runs_in_order_and_skips_finished_stages(tmp_path):
    built = []
    stages = [touch_stage(n, tmp_path, built) for n in ('a', 'b', 'c')]
    out = []
    runner = StageRunner(REPO, str(tmp_path / 'work'), echo=out.append)
    runner.run(stages)
    assert runs(tmp_path) == ['a', 'b', 'c']
    assert all(runner.is_done(s) for s in stages)
    marker = json.load(open(runner.marker(stages[1])))
    assert marker['stage'] == 'b' and marker['seconds'] >= 0

    runner.run(stages)  # everything done: nothing runs, nothing is built
    assert runs(tmp_path) == ['a', 'b', 'c'] and built == ['a', 'b', 'c']
    assert sum('[skip]' in line for line in out) == 3

    runner.run(stages, start='b')  # rerun from b on
    assert runs(tmp_path) == ['a', 'b', 'c', 'b', 'c']
    runner.run(stages, only=['a'])
    assert runs(tmp_path)[-1] == 'a'
    with pytest.raises(PipelineError, match='unknown stage "z"'):
        runner.run(stages, start='z')


def test_failure_stops_and_resume_continues(tmp_path):
    flag = tmp_path / 'fixed'
    fail = Stage('b', 'may fail', lambda: [Command(py(
        f'import os,sys; sys.exit(0 if os.path.exists({str(flag)!r}) '
        'else 3)'))])
    stages = [touch_stage('a', tmp_path, []), fail,
              touch_stage('c', tmp_path, [])]
    runner = StageRunner(REPO, str(tmp_path / 'work'), echo=lambda s: None)
    with pytest.raises(PipelineError,
                       match=r'stage "b" failed: .* exited with 3'):
        runner.run(stages)
    assert runs(tmp_path) == ['a']  # c never ran
    assert not runner.is_done(fail)
    flag.write_text('')
    runner.run(stages)  # a is skipped, b and c run
    assert runs(tmp_path) == ['a', 'c']


def test_metrics_are_saved_from_the_json_line(tmp_path):
    stage = Stage('m', 'metrics', lambda: [Command(
        py('print("log"); print(\'{"mIoU": 42.5}\')'), metrics='m')])
    runner = StageRunner(REPO, str(tmp_path), echo=lambda s: None)
    runner.run([stage])
    assert runner.load_metrics() == {'m': {'mIoU': 42.5}}
    bad = Stage('n', 'no json', lambda: [Command(py('print("x")'),
                                                 metrics='n')])
    with pytest.raises(PipelineError, match='JSON summary'):
        runner.run([bad])


def test_lazy_command_and_dry_run(tmp_path):
    def needs_ckpt():
        raise FileNotFoundError('last_checkpoint not found')
    stage = Stage('t', 'lazy', lambda: [
        Command(py('pass')), Command(build=needs_ckpt)])
    out = []
    StageRunner(REPO, str(tmp_path), dry_run=True,
                echo=out.append).run([stage])
    assert any('needs earlier outputs' in line for line in out)
    assert not osp.exists(osp.join(str(tmp_path), '.stages'))
    with pytest.raises(PipelineError, match='last_checkpoint'):
        StageRunner(REPO, str(tmp_path), echo=lambda s: None).run([stage])


@pytest.mark.parametrize('name', ['pnoc_voc', 'pnoc_coco'])
def test_reference_pipelines_build_their_commands(name, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pipelines',
                                   f'{name}.py'))
    pipe = PNOCPipeline(cfg, REPO, str(tmp_path), gpus=8, python='python')
    stages = {s.name: s for s in pipe.stages()}
    assert list(stages)[:3] == ['vanilla', 'pnoc', 'cams']
    assert list(stages)[-1] == 'segmentation'
    for name, stage_cfg in cfg.stages.items():  # every config named exists
        if stage_cfg and 'config' in stage_cfg:
            assert osp.isfile(osp.join(REPO, stage_cfg['config'])), name
    (cmd, ) = stages['vanilla'].build()
    argv = cmd.resolve()
    assert argv[:4] == ['python', '-m', 'torch.distributed.run',
                        '--nproc_per_node=8']
    assert argv[argv.index('--launcher') + 1] == 'pytorch'
    assert f'train_dataloader.dataset.data_root={cfg.data_root}' in argv
    with pytest.raises(FileNotFoundError, match='vanilla'):
        stages['pnoc'].build()  # needs the vanilla checkpoint


def test_rerun_deletes_outputs_but_resume_keeps_them(tmp_path):
    out = tmp_path / 'out'

    def build():
        return [Command(py(f'import os; os.makedirs({str(out)!r}, '
                           'exist_ok=True); open(os.path.join('
                           f'{str(out)!r}, "new"), "w").close()'))]
    stage = Stage('s', 'writes', build, outputs=[str(out)])
    runner = StageRunner(REPO, str(tmp_path / 'work'), echo=lambda s: None)
    out.mkdir()
    (out / 'partial').write_text('')  # an interrupted run's file
    runner.run([stage])
    assert sorted(p.name for p in out.iterdir()) == ['new', 'partial']
    (out / 'stale').write_text('')
    runner.run([stage], only=['s'])  # a finished stage run again
    assert sorted(p.name for p in out.iterdir()) == ['new']


def test_affinity_label_settings_reach_the_tool(tmp_path):
    """fg/bg thresholds and the CRF switch of the pipeline config become
    make_affinity_labels flags (VOC: the reference's 0.40/0.10 with CRF;
    synthetic: 0.05/0.20 without)."""
    def argv(name):
        cfg = Config.fromfile(osp.join(REPO, 'configs', 'pipelines',
                                       f'{name}.py'))
        pipe = PNOCPipeline(cfg, REPO, str(tmp_path), python='python')
        stage = {s.name: s for s in pipe.stages()}['affinity_labels']
        return stage.build()[0].resolve()

    voc, syn = argv('pnoc_voc'), argv('pnoc_synthetic')
    assert voc[voc.index('--fg-threshold') + 1] == '0.4'
    assert voc[voc.index('--bg-threshold') + 1] == '0.1'
    assert '--no-crf' not in voc and '--sal-dir' in voc
    assert syn[syn.index('--fg-threshold') + 1] == '0.05'
    assert syn[syn.index('--bg-threshold') + 1] == '0.2'
    assert '--no-crf' in syn and '--sal-dir' in syn


def test_walk_settings_reach_model_test_cfg(tmp_path):
    """The rw stage's walk keys become --cfg-options model.test_cfg.*
    of tools/infer_rw.py (the AffinityNet config's own settings apply
    where the stage sets none)."""
    affinity = tmp_path / 'affinity'
    affinity.mkdir()
    (affinity / 'last_checkpoint').write_text(str(affinity / 'epoch_3.pth'))

    def argv(rw):
        cfg = Config.fromfile(osp.join(REPO, 'configs', 'pipelines',
                                       'pnoc_synthetic.py'))
        cfg.stages.rw = rw
        pipe = PNOCPipeline(cfg, REPO, str(tmp_path), python='python')
        stage = {s.name: s for s in pipe.stages()}['rw']
        return stage.build()[0].resolve()

    cmd = argv(dict(exp_times=2, damp_edges=True, normalize='global',
                    options={'model.test_cfg.image_size': 96}))
    assert cmd[1] == 'tools/infer_rw.py'
    opts = cmd[cmd.index('--cfg-options') + 1:]
    assert {'model.test_cfg.exp_times=2', 'model.test_cfg.damp_edges=True',
            'model.test_cfg.normalize=global',
            'model.test_cfg.image_size=96'} <= set(opts)
    assert cmd[cmd.index('--work-dir') + 1] == str(affinity / 'infer')
    assert not any('test_cfg' in o for o in argv(None))


@pytest.mark.parametrize('config,key', [
    ('pnoc_tiny_synthetic', 'model.noc_checkpoint'),
    ('poc_tiny_synthetic', 'model.oc_checkpoint'),
    ('puzzle_tiny_synthetic', None)])
def test_vanilla_checkpoint_goes_to_the_second_classifier_key(
        tmp_path, config, key):
    """The pnoc stage hands the vanilla checkpoint to the key of the
    config's second classifier: noc (P-NOC), oc (OC-CSE, P-OC), none
    (Puzzle-CAM)."""
    vanilla = tmp_path / 'vanilla'
    vanilla.mkdir()
    ckpt = str(vanilla / 'epoch_20.pth')
    (vanilla / 'last_checkpoint').write_text(ckpt)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pipelines',
                                   'pnoc_synthetic.py'))
    cfg.stages.pnoc.config = f'configs/pnoc/{config}.py'
    pipe = PNOCPipeline(cfg, REPO, str(tmp_path), python='python')
    argv = {s.name: s for s in pipe.stages()}['pnoc'].build()[0].resolve()
    opts = argv[argv.index('--cfg-options') + 1:]
    given = [o for o in opts if o.split('=')[0].endswith('oc_checkpoint')]
    assert given == ([f'{key}={ckpt}'] if key else [])
