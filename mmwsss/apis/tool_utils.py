"""Helpers shared by the command-line tools in ``tools/``."""
import argparse
import logging
import os
import os.path as osp
import sys
from types import MappingProxyType
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence,
                    Tuple)

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from mmwsss.engine.optimizers import AMP_COUNTERPARTS
from mmwsss.utils.errors import USER_ERRORS, ConfigError
from mmwsss.utils.io import sample_id
from mmwsss.utils.options import select_split

#: Train-loop length keys, by the unit of a scheduler's ``by_epoch``.
LENGTH_KEYS = {True: 'max_epochs', False: 'max_iters'}
#: Top-level config keys no code reads any more, and where they went.
RETIRED_KEYS = {
    'rw_cfg': 'the random-walk settings are AffinityNet inference settings '
    'now: move them to model.test_cfg (keys beta, exp_times, radius, method, '
    'normalize, damp_edges, cam_power), e.g. model = '
    'dict(test_cfg=dict(beta=10, exp_times=8, radius=5)), or pass '
    '--cfg-options model.test_cfg.KEY=VALUE',
}


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction`` for ``--cfg-options``, refusing a token
    that is not ``KEY=VALUE`` (or whose value does not parse) with a message
    naming it; ``DictAction`` itself fails with "not enough values to
    unpack"."""

    def __call__(self, parser, namespace, values, option_string=None):
        for token in values or []:
            key, sep, _ = token.partition('=')
            if not sep or not key:
                raise argparse.ArgumentError(
                    self, f'{token!r} is not KEY=VALUE; write e.g. '
                    'train_cfg.max_epochs=3 (no spaces around "=")')
            try:
                super().__call__(parser, namespace, [token], option_string)
            except (AssertionError, ValueError, IndexError) as err:
                raise argparse.ArgumentError(
                    self, f'cannot parse the value of {token!r} ({err}); '
                    'quote lists and tuples, e.g. "a=[1,2]"') from err


def add_cfg_options(parser: argparse.ArgumentParser) -> None:
    """Add the tools' ``--cfg-options KEY=VALUE ...`` argument."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        metavar='KEY=VALUE',
        help='override settings of the config, e.g. train_cfg.max_epochs=3')


#: One default per dense-CRF option of the tools: the reference's CRF of
#: pseudo labels (P-NOC / IRN: preset crf_label with its 10 mean-field
#: iterations, label confidence 0.7, the pydensecrf backend), off unless
#: asked for.
CRF_DEFAULTS: Mapping[str, Any] = MappingProxyType(dict(
    crf=False, preset='crf_label', iterations=None, gt_prob=0.7,
    backend='pydensecrf'))


def _crf_preset_name(name: str) -> str:
    """argparse type of ``--crf-preset``: a known preset."""
    from mmwsss.crf import crf_preset
    try:
        crf_preset(name)
    except KeyError as err:
        raise argparse.ArgumentTypeError(err.args[0]) from err
    return name


def _crf_iterations(text: str) -> int:
    """argparse type of ``--crf-iterations``: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(
            f'{value} < 1 (use --no-crf to skip the CRF)')
    return value


def add_crf_options(parser: argparse.ArgumentParser,
                    reference: Optional[str] = None,
                    **defaults: Any) -> None:
    """Add the dense-CRF options every tool shares: ``--crf`` /
    ``--no-crf``, ``--crf-preset``, ``--crf-iterations``,
    ``--crf-gt-prob`` and ``--crf-backend``, with :data:`CRF_DEFAULTS`.

    Args:
        reference: why this tool's defaults differ (shown in the help);
            required with ``defaults``.
        defaults: the tool's own defaults (keys of :data:`CRF_DEFAULTS`),
            only where the reference step needs them.
    """
    from mmwsss.crf import CRF_BACKENDS
    unknown = sorted(set(defaults) - set(CRF_DEFAULTS))
    if unknown:
        raise KeyError(f'unknown CRF defaults {unknown}; valid: '
                       f'{sorted(CRF_DEFAULTS)}')
    if defaults and not reference:
        raise ValueError('a tool with its own CRF defaults says why '
                         '(reference=...)')
    own = {**CRF_DEFAULTS, **defaults}
    group = parser.add_argument_group(
        'dense CRF', f'defaults of this tool: {reference}'
        if reference else None)
    group.add_argument(
        '--crf', action=argparse.BooleanOptionalAction, default=own['crf'],
        help='refine with a dense CRF (default: %(default)s)')
    group.add_argument(
        '--crf-preset', type=_crf_preset_name, default=own['preset'],
        metavar='PRESET', help='DenseCRF preset: crf_label, crf_softmax or '
        'deeplab_v2 (default: %(default)s)')
    group.add_argument(
        '--crf-iterations', type=_crf_iterations, default=own['iterations'],
        metavar='N', help='mean-field iterations (default: the preset\'s, 10)')
    group.add_argument(
        '--crf-gt-prob', type=float, default=own['gt_prob'], metavar='P',
        help='confidence of the CRF unary in the input labels or '
        'probabilities (default: %(default)s)')
    group.add_argument(
        '--crf-backend', default=own['backend'],
        choices=sorted(CRF_BACKENDS.module_dict),
        help='mean-field backend (default: %(default)s)')


def crf_from_args(args: argparse.Namespace) -> Optional[dict]:
    """The DenseCRF config (:func:`mmwsss.crf.build_dense_crf`) of the
    options of :func:`add_crf_options`; None with ``--no-crf``. The label
    confidence is ``args.crf_gt_prob``."""
    if not args.crf:
        return None
    crf = dict(preset=args.crf_preset, backend=args.crf_backend)
    if args.crf_iterations is not None:
        crf['iterations'] = args.crf_iterations
    return crf


def report_error(err: BaseException) -> int:
    """Print ``err`` as one ``error: ...`` line on stderr and return 1, the
    exit status of a user error."""
    message = err.args[0] if isinstance(err, KeyError) and len(
        err.args) == 1 else err
    print(f'error: {message}', file=sys.stderr)
    return 1


def load_config(path: str, cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                training: bool = False) -> Config:
    """Read ``path``, apply ``--cfg-options`` and set ``work_dir``.

    Args:
        training: fit the param schedulers to the train length (see
            :func:`fit_schedulers`).

    Raises:
        FileNotFoundError: no such config file.
        ConfigError: a retired key (:data:`RETIRED_KEYS`) is set, or
            (``training``) the options change the train length but leave a
            scheduler at the old one.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file "{path}" does not exist')
    cfg = Config.fromfile(path)
    length = train_length(cfg)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    check_retired_keys(cfg, path)
    if training:
        fit_schedulers(cfg, length, cfg_options or {})
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg


def check_retired_keys(cfg: Config, path: str) -> None:
    """Refuse a config that sets a key of :data:`RETIRED_KEYS`, which
    would otherwise be silently ignored.

    Raises:
        ConfigError: names the key and where its settings go now.
    """
    for key, fix in RETIRED_KEYS.items():
        if key in cfg:
            raise ConfigError(f'{path} sets `{key}`, which is no longer read: '
                              f'{fix}')


def train_length(cfg: Config) -> Dict[str, Any]:
    """``max_epochs`` / ``max_iters`` of ``cfg.train_cfg`` (those set)."""
    train_cfg = cfg.get('train_cfg') or {}
    return {
        key: train_cfg[key]
        for key in LENGTH_KEYS.values() if train_cfg.get(key) is not None
    }


def param_schedulers(cfg: Config) -> List[Tuple[str, dict]]:
    """(config key, scheduler dict) of every entry of
    ``cfg.param_scheduler``: a scheduler, a list of them, or a dict of
    those per optimizer (P-NOC's ``generator`` / ``noc``)."""
    schedulers = cfg.get('param_scheduler')
    if not schedulers:
        return []
    if isinstance(schedulers, dict) and 'type' not in schedulers:
        groups = [(f'param_scheduler.{name}', group)
                  for name, group in schedulers.items()]
    else:
        groups = [('param_scheduler', schedulers)]
    found = []
    for key, group in groups:
        if isinstance(group, dict):
            found.append((key, group))
        else:
            found += [(f'{key}.{i}', s) for i, s in enumerate(group or [])]
    return found


def fit_schedulers(cfg: Config, original: Dict[str, Any],
                   cfg_options: dict) -> None:
    """Make the param schedulers end with the train loop.

    A scheduler with ``end=None`` ends with the train loop (``max_epochs``
    when it counts epochs, ``by_epoch=True``, else ``max_iters``). One whose
    ``end`` is the config's own train length (``original``), when
    ``cfg_options`` changed that length but not this ``end``, is refused:
    the learning rate would follow the old length and P-NOC's loss-weight
    ramps the new one.

    Raises:
        ConfigError: names the keys to set.
    """
    length = train_length(cfg)
    stale = []
    for key, scheduler in param_schedulers(cfg):
        unit = LENGTH_KEYS[bool(scheduler.get('by_epoch', True))]
        end = scheduler.get('end', 0)
        if end is None:
            if unit not in length:
                raise ConfigError(
                    f'{key}.end=None follows train_cfg.{unit}, which the '
                    f'config does not set; set {key}.end')
            scheduler['end'] = length[unit]
            continue
        overridden = any(f'{key}.end' == opt
                         or f'{key}.end'.startswith(f'{opt}.')
                         for opt in cfg_options)
        if (unit in length and original.get(unit) != length[unit]
                and end == original.get(unit) and not overridden):
            stale.append((key, unit))
    if stale:
        unit = stale[0][1]
        fixes = ' '.join(f'{key}.end={length[u]}' for key, u in stale)
        raise ConfigError(
            f'train_cfg.{unit}={length[unit]} but {stale[0][0]}.end is still '
            f"the config's {original[unit]}: the learning rate would end at "
            f'{original[unit]} and the loss-weight ramps at {length[unit]}; '
            f'also set --cfg-options {fixes} (or end=None in the config to '
            'follow the train length)')


def build_split_dataset(config: str, cfg_options: Optional[dict],
                        split: Optional[str],
                        loader_key: str = 'test_dataloader'
                        ) -> Tuple[Config, Any]:
    """(config, dataset) of ``config[loader_key]`` switched to ``split``:
    the shared start of the evaluation tools. Sets the config's default
    scope.

    Raises:
        FileNotFoundError: no such config file.
        KeyError: unknown split, or the config has no such dataloader.
    """
    from mmengine.registry import init_default_scope

    from mmwsss.registry import DATASETS
    cfg = load_config(config, cfg_options)
    select_split(cfg, split, loader_key)
    init_default_scope(cfg.get('default_scope', 'mmwsss'))
    loader = cfg.get(loader_key)
    if not loader or 'dataset' not in loader:
        raise KeyError(f'{config} has no {loader_key}.dataset')
    return cfg, DATASETS.build(loader['dataset'])


def missing_files(paths: Sequence[str], what: str) -> Optional[str]:
    """``'N of M {what} missing (a, b, c ...)'`` for the paths that do not
    exist, or None when all do."""
    missing = [p for p in paths if not osp.isfile(p)]
    if not missing:
        return None
    shown = ', '.join(missing[:3]) + (' ...' if len(missing) > 3 else '')
    return f'{len(missing)} of {len(paths)} {what} missing ({shown})'


def check_checkpoint(path: str) -> None:
    """Fail early, naming the file, when a checkpoint is missing."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint "{path}" does not exist; train '
                                'first (tools/train.py) or fix the path')


def ensure_dir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path


def pending_indices(dataset_cfg: dict, out_file: Callable[[str], str]
                    ) -> Tuple[List[int], int]:
    """(indices of the entries whose output ``out_file(img_id)`` does not
    exist yet, dataset size): what a resumable per-image tool still has to
    do."""
    from mmwsss.registry import DATASETS
    dataset = DATASETS.build(dataset_cfg)
    todo = [
        i for i in range(len(dataset))
        if not osp.exists(out_file(sample_id(dataset.get_data_info(i))))
    ]
    return todo, len(dataset)


def inference_arg_parser(description: str,
                         out_help: str) -> argparse.ArgumentParser:
    """The arguments of the per-image map inference tools
    (``tools/infer_cams.py``, ``infer_saliency.py``, ``infer_rw.py``), which
    run an mmengine Runner (:func:`infer_maps`) that logs to
    ``--work-dir``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', required=True, help=out_help)
    parser.add_argument('--split', help='a name in the config\'s data_splits '
                        '(default: the test_dataloader as configured)')
    parser.add_argument('--work-dir', help='logs (default work_dirs/<cfg>)')
    parser.add_argument('--overwrite', action='store_true',
                        help='recompute images whose file exists')
    add_cfg_options(parser)
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def set_pipeline_option(cfg: Config, transform: str, key: str, value: Any,
                        loader_key: str = 'test_dataloader') -> None:
    """Set ``key=value`` in every ``transform`` step (type name, with or
    without a scope) of ``cfg[loader_key]``'s pipeline, e.g. the
    ``cam_dir`` of ``LoadCAMs``.

    Raises:
        ConfigError: the pipeline has no such step.
    """
    pipeline = cfg[loader_key].dataset.get('pipeline') or []
    steps = [t for t in pipeline
             if str(t.get('type', '')).split('.')[-1] == transform]
    if not steps:
        raise ConfigError(
            f'{loader_key}.dataset.pipeline has no {transform} step to set '
            f'{key} in')
    for step in steps:
        step[key] = value


def infer_maps(args: argparse.Namespace, writer: str,
               out_file: Callable[[str], str], what: str,
               prepare: Optional[Callable[[Config], None]] = None) -> int:
    """Run ``args.checkpoint`` over the test split of ``args.config`` and
    write one map per image with the metric ``writer`` (a registered
    writer, e.g. ``'mmwsss.CAMWriter'``) into ``args.out_dir``.

    Resumable: images whose ``out_file(img_id)`` exists are skipped (all
    are recomputed with ``args.overwrite``). Distributed launches shard the
    images. ``prepare`` edits the loaded config (e.g. points a transform at
    its input folder; it may raise a user error). Returns 0, or 1 after
    printing why nothing could run.
    """
    from mmengine.logging import print_log
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    from mmwsss.compat import setup_cpu_distributed, teardown_distributed

    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    try:
        check_checkpoint(args.checkpoint)
        cfg = load_config(args.config, args.cfg_options, args.work_dir)
        select_split(cfg, args.split)
        if prepare is not None:
            prepare(cfg)
    except (KeyError, *USER_ERRORS) as err:
        return report_error(err)
    cfg.launcher = args.launcher
    init_default_scope(cfg.get('default_scope', 'mmwsss'))

    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.pop('indices', None)
    if not args.overwrite:
        todo, total = pending_indices(dataset_cfg.to_dict(), out_file)
        print_log(f'{total - len(todo)}/{total} images already have '
                  f'{what} maps in {args.out_dir}; {len(todo)} to infer',
                  logger='current')
        if not todo:
            return 0
        dataset_cfg.indices = todo
    # scoped names: stock MMSeg configs keep default_scope='mmseg'
    cfg.test_evaluator = dict(
        type=writer, out_dir=args.out_dir, overwrite=args.overwrite)
    cfg.test_cfg = dict(type='TestLoop')
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='mmwsss.ProgressBarHook', desc=f'{what} inference')]
    # no visualisation writes during inference (MMSeg configs have a hook)
    cfg.get('default_hooks', {}).pop('visualization', None)
    cfg.load_from = None
    cfg.resume = False

    own_pg = setup_cpu_distributed(cfg, args.launcher)
    try:
        # the model checks its test_cfg when built
        runner = Runner.from_cfg(cfg)
        load_inference_weights(runner.model, args.checkpoint)
    except (KeyError, ValueError) as err:
        teardown_distributed(own_pg)
        return report_error(err)
    runner.test()
    teardown_distributed(own_pg)
    return 0


def load_inference_weights(model, checkpoint: str,
                           strict: bool = False,
                           config_key: str = 'CHECKPOINT') -> None:
    """Load ``checkpoint`` into the network a runner built for inference.

    DDP and TTA wrappers are looked through (also DDP-wrapped children,
    P-NOC under ``--launcher pytorch``); a model with
    ``inference_prefixes()`` (P-NOC) needs only those tensors, and a P-NOC
    checkpoint fits a plain CAM config (its generator). ``strict`` also
    refuses tensors the model has no place for; ``config_key`` names the
    argument in the errors.

    Raises:
        FileNotFoundError: no such file (names ``config_key``).
        CheckpointError: the checkpoint does not fit, or shapes differ
            (names it and example keys; a ``KeyError`` and a
            ``ValueError``).
    """
    from mmengine.model import BaseTTAModel, is_model_wrapper

    from mmwsss.models.utils.checkpoint import load_weights, mmwsss_keys
    if is_model_wrapper(model):
        model = model.module
    if isinstance(model, BaseTTAModel):
        model = model.module
    # a P-NOC model needs its generator (or EMA) only
    prefixes = model.inference_prefixes() if hasattr(
        model, 'inference_prefixes') else ('', )
    load_weights(model, checkpoint, config_key, key_map=mmwsss_keys,
                 required=prefixes, strict=strict)


def enable_amp(cfg: Config) -> None:
    """Switch every optimizer wrapper of ``cfg`` to its AMP counterpart
    (``OptimWrapper`` → ``AmpOptimWrapper``, ``SumAccumOptimWrapper`` →
    ``SumAccumAmpOptimWrapper``)."""
    ow = cfg.optim_wrapper
    if 'optimizer' in ow or ow.get('type') in AMP_COUNTERPARTS:
        subs = [ow]
    else:  # multi-optimizer: {name: wrapper cfg, constructor=...}
        subs = [v for v in ow.values() if isinstance(v, dict)]
    for sub in subs:
        current = sub.get('type', 'OptimWrapper')
        if current in AMP_COUNTERPARTS.values():
            print_log('AMP is already enabled in the config.',
                      logger='current', level=logging.WARNING)
            continue
        if current not in AMP_COUNTERPARTS:
            raise ConfigError(f'--amp converts {sorted(AMP_COUNTERPARTS)}, '
                              f'got "{current}"')
        sub['type'] = AMP_COUNTERPARTS[current]
        sub.setdefault('loss_scale', 'dynamic')
