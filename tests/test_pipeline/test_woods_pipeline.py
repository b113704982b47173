"""WOoDPipeline: the P-NOC pipeline's stages with W-OoD as the prior, the
pipeline_type key of a pipeline config, the IRN-stage settings."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmwsss.pipeline import (PipelineError, PNOCPipeline, WOoDPipeline,
                             pipeline_class)
from tests.conftest import REPO


def load(name: str) -> Config:
    return Config.fromfile(osp.join(REPO, 'configs', 'pipelines',
                                    f'{name}.py'))


def fake_run(work, name: str) -> str:
    """A finished training stage's last_checkpoint marker."""
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    ckpt = str(folder / 'epoch_5.pth')
    (folder / 'last_checkpoint').write_text(ckpt)
    return ckpt


def options(argv: list) -> dict:
    opts = argv[argv.index('--cfg-options') + 1:]
    return dict(o.split('=', 1) for o in opts if '=' in o)


@pytest.mark.parametrize('name', ['woods_voc', 'woods_synthetic'])
def test_woods_pipelines_name_their_class_and_stages(name, tmp_path):
    cfg = load(name)
    assert pipeline_class(cfg.pipeline_type) is WOoDPipeline
    pipe = WOoDPipeline(cfg, REPO, str(tmp_path), python='python')
    names = [s.name for s in pipe.stages()]
    # no P-NOC, no saliency: the IRN stage makes labels from the CAMs alone
    assert names[:3] == ['vanilla', 'woods', 'cams']
    assert 'pnoc' not in names and 'c2am' not in names
    assert names[3:7] == ['affinity_labels', 'affinity', 'rw',
                          'pseudo_masks']
    for key, stage_cfg in cfg.stages.items():  # every config named exists
        if stage_cfg and stage_cfg.get('config'):
            assert osp.isfile(osp.join(REPO, stage_cfg['config'])), key
    labels = {s.name: s for s in pipe.stages()}['affinity_labels']
    argv = labels.build()[0].resolve()
    assert '--sal-dir' not in argv


def test_pnoc_pipelines_keep_the_default_class():
    for name in ('pnoc_voc', 'pnoc_synthetic', 'pnoc_coco'):
        assert pipeline_class(load(name).get('pipeline_type',
                                             'PNOCPipeline')) is PNOCPipeline
    with pytest.raises(PipelineError, match='unknown pipeline_type.*'
                       'PNOCPipeline, WOoDPipeline'):
        pipeline_class('WOOD')


def test_woods_stage_fine_tunes_the_vanilla_checkpoint(tmp_path):
    data = tmp_path / 'data'
    (data / 'OoD').mkdir(parents=True)
    cfg = load('woods_synthetic')
    pipe = WOoDPipeline(cfg, REPO, str(tmp_path), data_root=str(data),
                        python='python')
    stages = {s.name: s for s in pipe.stages()}
    with pytest.raises(FileNotFoundError, match='ood_list.txt.*--num-ood'):
        stages['woods'].build()  # no OoD images yet
    (data / 'OoD' / 'ood_list.txt').write_text('a\n')
    with pytest.raises(FileNotFoundError, match='vanilla'):
        stages['woods'].build()  # no vanilla checkpoint yet
    vanilla = fake_run(tmp_path, 'vanilla')
    (cmd, ) = stages['woods'].build()
    argv = cmd.resolve()
    assert argv[1:3] == ['tools/train.py', cfg.stages.woods.config]
    assert argv[argv.index('--work-dir') + 1] == str(tmp_path / 'woods')
    opts = options(argv)
    assert opts['model.init_checkpoint'] == vanilla
    assert opts['ood_dataset.data_root'] == str(data / 'OoD')
    # index 0 must be the OoDBatchHook of the W-OoD configs
    assert opts['custom_hooks.0.ood_dataloader.dataset.data_root'] == str(
        data / 'OoD')
    for config in ('configs/woods/woods_tiny_synthetic.py',
                   'configs/woods/woods_r50_voc.py'):
        hooks = Config.fromfile(osp.join(REPO, config)).custom_hooks
        assert hooks[0]['type'] == 'OoDBatchHook', config


def test_later_stages_use_the_woods_checkpoint_and_config(tmp_path):
    cfg = load('woods_voc')
    pipe = WOoDPipeline(cfg, REPO, str(tmp_path), python='python')
    ckpt = fake_run(tmp_path, 'woods')
    stages = {s.name: s for s in pipe.stages()}
    infer, score = stages['cams'].build()[:2]
    argv = infer.resolve()
    # AdvCAM seeds: the cams stage's own config, the W-OoD checkpoint
    assert argv[1:4] == ['tools/infer_cams.py',
                         'configs/woods/advcam_woods_r50_voc.py', ckpt]
    assert score.resolve()[2] == 'configs/woods/advcam_woods_r50_voc.py'
    pm = stages['pseudo_masks'].build()[0].resolve()
    assert pm[pm.index('--threshold') + 1] == '0.22'
    assert '--crf' not in pm
    assert pm[pm.index('--config') + 1] == cfg.stages.woods.config
    # the prior's model.* options reach the CAM inference; the cams stage's
    # own options come after them
    cfg.stages.woods.options = {'model.num_clusters': 3,
                                'optim_wrapper.optimizer.lr': 0.5}
    cfg.stages.cams.options = {'model.test_cfg.scales': '[1.0]'}
    pipe = WOoDPipeline(cfg, REPO, str(tmp_path), python='python')
    stages = {s.name: s for s in pipe.stages()}
    opts = options(stages['cams'].build()[0].resolve())
    assert opts['model.num_clusters'] == '3'
    assert opts['model.test_cfg.scales'] == '[1.0]'
    assert 'optim_wrapper.optimizer.lr' not in opts
    aff = Config.fromfile(osp.join(REPO, cfg.stages.affinity.config))
    assert aff.model.test_cfg.cam_power == 1.5  # IRN / W-OoD's CAMs ** 1.5


def test_a_pipeline_config_without_its_prior_is_refused(tmp_path):
    cfg = load('woods_synthetic')
    cfg.stages.woods.config = None
    pipe = WOoDPipeline(cfg, REPO, str(tmp_path), python='python')
    with pytest.raises(PipelineError, match='stages.woods.config'):
        pipe.prior_config()
