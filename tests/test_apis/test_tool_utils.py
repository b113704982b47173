"""select_split: list-file splits and splits with their own folders;
build_split_dataset and missing_files, the eval tools' shared start."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmwsss.apis.tool_utils import (build_split_dataset, missing_files,
                                    select_split)
from tests.conftest import CAM_CONFIG, REPO


def test_voc_split_is_a_list_file():
    cfg = Config.fromfile(osp.join(REPO, 'configs/cam/cam_rs269_voc.py'))
    prefix = dict(cfg.test_dataloader.dataset.data_prefix)
    select_split(cfg, 'train_aug')
    assert cfg.test_dataloader.dataset.ann_file == \
        'ImageSets/Segmentation/train_aug.txt'
    assert dict(cfg.test_dataloader.dataset.data_prefix) == prefix


def test_coco_split_switches_folders_and_names():
    cfg = Config.fromfile(osp.join(REPO, 'configs/cam/cam_rs269_coco.py'))
    assert cfg.test_dataloader.dataset.data_prefix.img_path == 'val2014'
    select_split(cfg, 'train')
    ds = cfg.test_dataloader.dataset
    assert ds.ann_file == 'train2014.txt'
    assert ds.data_prefix.img_path == 'train2014'
    assert ds.img_name_template == 'COCO_train2014_{:012d}'
    select_split(cfg, 'val', 'train_dataloader')
    assert cfg.train_dataloader.dataset.data_prefix.img_path == 'val2014'


def test_unknown_split_lists_the_known_ones():
    cfg = Config.fromfile(osp.join(REPO, 'configs/cam/cam_rs269_coco.py'))
    with pytest.raises(KeyError, match=r'unknown split .nope.*train'):
        select_split(cfg, 'nope')


def test_build_split_dataset(synthetic_root, tmp_path):
    opts = {'test_dataloader.dataset.data_root': synthetic_root}
    cfg, dataset = build_split_dataset(CAM_CONFIG, opts, 'val')
    assert cfg.test_dataloader.dataset.ann_file.endswith('val.txt')
    assert len(dataset) == 8  # the session's synthetic val split
    with pytest.raises(KeyError, match='unknown split "nope"'):
        build_split_dataset(CAM_CONFIG, opts, 'nope')
    with pytest.raises(KeyError, match='has no val_dataloader.dataset'):
        build_split_dataset(CAM_CONFIG, {**opts, 'val_dataloader': None},
                            None, 'val_dataloader')
    with pytest.raises(FileNotFoundError, match='nope.py'):
        build_split_dataset(str(tmp_path / 'nope.py'), None, None)


def test_missing_files_names_the_first_three(tmp_path):
    present = tmp_path / 'a.png'
    present.write_text('')
    paths = [str(present)] + [str(tmp_path / f'm{i}.png') for i in range(4)]
    assert missing_files([str(present)], 'masks') is None
    msg = missing_files(paths, 'masks')
    assert msg.startswith('4 of 5 masks missing (')
    assert 'm2.png ...' in msg and 'm3.png' not in msg


def test_infer_maps_fails_clearly_before_any_work(tmp_path, capsys):
    """Missing checkpoint, missing config and unknown split: rc 1, one
    error line naming the culprit, nothing written."""
    from mmwsss.apis.tool_utils import infer_maps, inference_arg_parser
    ckpt = tmp_path / 'c.pth'
    ckpt.write_bytes(b'')
    out = tmp_path / 'out'
    parser = inference_arg_parser('t', 'out')

    def run(*argv):
        args = parser.parse_args([*argv, '--out-dir', str(out)])
        return infer_maps(args, 'mmwsss.CAMWriter',
                          lambda i: str(out / f'{i}.npz'), 'CAM')

    assert run(CAM_CONFIG, str(tmp_path / 'none.pth')) == 1
    assert 'none.pth' in capsys.readouterr().err
    assert run(str(tmp_path / 'none.py'), str(ckpt)) == 1
    assert 'none.py' in capsys.readouterr().err
    assert run(CAM_CONFIG, str(ckpt), '--split', 'nope') == 1
    assert 'unknown split "nope"' in capsys.readouterr().err
    assert not out.exists()


def test_retired_rw_cfg_is_refused_naming_the_new_keys(tmp_path):
    from mmwsss.apis.tool_utils import load_config
    from mmwsss.utils.errors import ConfigError
    aff = osp.join(REPO, 'configs/affinity/affinitynet_tiny_synthetic.py')
    old = tmp_path / 'old_rw.py'
    old.write_text(f'_base_ = [{aff!r}]\nrw_cfg = dict(beta=10)\n')
    with pytest.raises(ConfigError, match=r'rw_cfg.*model\.test_cfg.*beta, '
                       'exp_times, radius, method, normalize, damp_edges'):
        load_config(str(old))
    # also when an option brings it back
    with pytest.raises(ConfigError, match='rw_cfg'):
        load_config(aff, {'rw_cfg.radius': 4})
    assert 'rw_cfg' not in load_config(aff)


def test_set_pipeline_option_finds_the_step_by_type():
    from mmwsss.apis.tool_utils import set_pipeline_option
    from mmwsss.utils.errors import ConfigError
    cfg = Config(dict(test_dataloader=dict(dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='mmwsss.LoadCAMs', cam_dir='x')]))))
    set_pipeline_option(cfg, 'LoadCAMs', 'cam_dir', '/cams')
    assert cfg.test_dataloader.dataset.pipeline[1].cam_dir == '/cams'
    with pytest.raises(ConfigError, match='no LoadCAMHint step'):
        set_pipeline_option(cfg, 'LoadCAMHint', 'cam_dir', '/cams')


# ------------------------------------------------------------ --cfg-options
def test_cfg_options_name_the_bad_token(capsys):
    import argparse

    from mmwsss.apis.tool_utils import add_cfg_options
    parser = argparse.ArgumentParser(prog='tool')
    add_cfg_options(parser)
    args = parser.parse_args(['--cfg-options', 'a.b=1', 'c=[1,2]'])
    assert args.cfg_options == {'a.b': 1, 'c': [1, 2]}
    for bad, named in ((['model.lr'], "'model.lr' is not KEY=VALUE"),
                       (['a=1', '=3'], "'=3' is not KEY=VALUE"),
                       (['model.lr', '=', '0.1'], "'model.lr' is not"),
                       (['c=[1,2'], "cannot parse the value of 'c=[1,2'")):
        with pytest.raises(SystemExit):
            parser.parse_args(['--cfg-options', *bad])
        err = capsys.readouterr().err
        assert f'tool: error: argument --cfg-options: {named}' in err
        assert 'unpack' not in err and 'Traceback' not in err


def test_every_tool_parses_cfg_options_with_the_shared_action():
    """No tool builds --cfg-options with the bare DictAction (its syntax
    error is 'not enough values to unpack')."""
    import glob
    for path in glob.glob(osp.join(REPO, 'tools', '*.py')):
        with open(path) as f:
            source = f.read()
        assert 'DictAction' not in source, path
        assert "add_argument('--cfg-options'" not in source, path
        assert "'--cfg-options', nargs" not in source, path


# ------------------------------------------------------- train length
PNOC_CONFIG = osp.join(REPO, 'configs', 'pnoc', 'pnoc_tiny_synthetic.py')


def test_changed_train_length_needs_the_scheduler_end():
    from mmwsss.apis.tool_utils import load_config
    from mmwsss.utils.errors import ConfigError
    with pytest.raises(ConfigError) as e:
        load_config(CAM_CONFIG, {'train_cfg.max_epochs': 3}, training=True)
    msg = str(e.value)
    assert 'train_cfg.max_epochs=3' in msg
    assert 'param_scheduler.0.end=3' in msg
    with pytest.raises(ConfigError) as e:
        load_config(PNOC_CONFIG, {'train_cfg.max_epochs': 3}, training=True)
    assert ('param_scheduler.generator.0.end=3 '
            'param_scheduler.noc.0.end=3') in str(e.value)
    # both set: fine; tools that do not train do not check
    cfg = load_config(CAM_CONFIG, {'train_cfg.max_epochs': 3,
                                   'param_scheduler.0.end': 3},
                      training=True)
    assert cfg.param_scheduler[0].end == 3
    load_config(CAM_CONFIG, {'train_cfg.max_epochs': 3})
    # the length unchanged: nothing to fit
    load_config(CAM_CONFIG, {'param_scheduler.0.end': 5}, training=True)


def test_scheduler_end_none_follows_the_train_length():
    from mmwsss.apis.tool_utils import load_config
    from mmwsss.utils.errors import ConfigError
    cfg = load_config(PNOC_CONFIG, {
        'train_cfg.max_epochs': 4,
        'param_scheduler.generator.0.end': None,
        'param_scheduler.noc.0.end': None
    }, training=True)
    assert cfg.param_scheduler.generator[0].end == 4
    assert cfg.param_scheduler.noc[0].end == 4
    # by_epoch=False counts iterations: an epoch-based loop gives none
    with pytest.raises(ConfigError, match='train_cfg.max_iters'):
        load_config(CAM_CONFIG, {'param_scheduler.0.end': None,
                                 'param_scheduler.0.by_epoch': False},
                    training=True)


# ------------------------------------------------------------ CRF options
CRF_FLAGS = {'--crf', '--no-crf', '--crf-preset', '--crf-iterations',
             '--crf-gt-prob', '--crf-backend'}


def crf_parser(**defaults):
    import argparse

    from mmwsss.apis.tool_utils import add_crf_options
    parser = argparse.ArgumentParser()
    add_crf_options(parser, 'a test' if defaults else None, **defaults)
    return parser


def test_crf_options_parse_with_one_default_each():
    from mmwsss.apis.tool_utils import CRF_DEFAULTS, crf_from_args
    args = crf_parser().parse_args([])
    assert crf_from_args(args) is None and args.crf_gt_prob == 0.7
    assert (args.crf_preset, args.crf_iterations, args.crf_backend) == (
        CRF_DEFAULTS['preset'], None, 'pydensecrf')
    args = crf_parser().parse_args(['--crf'])
    assert crf_from_args(args) == dict(preset='crf_label',
                                       backend='pydensecrf')
    args = crf_parser().parse_args([
        '--crf', '--crf-preset', 'deeplab_v2', '--crf-iterations', '3',
        '--crf-gt-prob', '0.9', '--crf-backend', 'torch'])
    assert crf_from_args(args) == dict(preset='deeplab_v2', backend='torch',
                                       iterations=3)
    assert args.crf_gt_prob == 0.9
    # a tool whose reference step differs keeps its own defaults
    own = crf_parser(crf=True, preset='deeplab_v2')
    assert crf_from_args(own.parse_args([]))['preset'] == 'deeplab_v2'
    assert crf_from_args(own.parse_args(['--no-crf'])) is None


@pytest.mark.parametrize('argv,message', [
    (['--crf-preset', 'dlv2'], "unknown CRF preset 'dlv2'"),
    (['--crf-iterations', '0'], 'use --no-crf'),
    (['--crf-backend', 'cuda'], 'invalid choice'),
])
def test_bad_crf_options_are_refused_by_name(argv, message, capsys):
    with pytest.raises(SystemExit):
        crf_parser().parse_args(argv)
    assert message in capsys.readouterr().err


def test_own_crf_defaults_need_a_reason_and_known_keys():
    import argparse

    from mmwsss.apis.tool_utils import add_crf_options
    with pytest.raises(ValueError, match='reference'):
        add_crf_options(argparse.ArgumentParser(), crf=True)
    with pytest.raises(KeyError, match='gtprob'):
        add_crf_options(argparse.ArgumentParser(), 'x', gtprob=0.5)


def tool_help(name: str, monkeypatch, capsys) -> str:
    """``tools/{name}.py --help``, in this process."""
    import inspect
    import sys

    from tests.conftest import load_tool
    tool = load_tool(name)
    monkeypatch.setattr(sys, 'argv', [name, '--help'])
    with pytest.raises(SystemExit):
        if inspect.signature(tool.parse_args).parameters:
            tool.parse_args(['--help'])
        else:
            tool.parse_args()
    return capsys.readouterr().out


@pytest.mark.parametrize('name', [
    osp.splitext(osp.basename(p))[0]
    for p in sorted(__import__('glob').glob(osp.join(REPO, 'tools', '*.py')))
    if 'crf' in open(p).read()])
def test_every_tool_with_a_crf_lists_the_same_options(name, monkeypatch,
                                                      capsys):
    """One set of CRF options (add_crf_options) in every tool that runs a
    CRF, and no tool-made variant."""
    import re
    text = tool_help(name, monkeypatch, capsys)
    assert set(re.findall(r'(--(?:no-)?crf[\w-]*)', text)) == CRF_FLAGS
    with open(osp.join(REPO, 'tools', f'{name}.py')) as f:
        assert 'add_crf_options(' in f.read()
