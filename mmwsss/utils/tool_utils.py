"""Helpers shared by the command-line tools in ``tools/``."""
import os
import os.path as osp
from typing import Any, Callable, List, Optional, Sequence, Tuple

from mmengine.config import Config


def load_config(path: str, cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Config:
    """Read ``path``, apply ``--cfg-options`` and set ``work_dir``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file "{path}" does not exist')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    return cfg


def select_split(cfg: Config, split: Optional[str],
                 loader_key: str = 'test_dataloader') -> None:
    """Point ``cfg[loader_key]`` at split ``split`` of ``cfg.data_splits``.

    Configs declare their named splits once, e.g.
    ``data_splits = dict(train='ImageSets/Segmentation/train.txt', ...)``.
    A split is a list file (``ann_file``) or, where splits also differ in
    their folders (COCO's ``train2014``/``val2014``), a dict of dataset
    fields, e.g. ``dict(ann_file=..., data_prefix=...,
    img_name_template=...)``, merged into the dataset config.
    """
    if split is None:
        return
    splits = cfg.get('data_splits') or {}
    if split not in splits:
        raise KeyError(f'unknown split "{split}"; the config declares '
                       f'data_splits {sorted(splits) or "(none)"}')
    fields = splits[split]
    if isinstance(fields, str):
        fields = dict(ann_file=fields)
    cfg[loader_key].dataset.update(dict(fields))


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


def info_id(info: dict) -> str:
    """Image id of a dataset entry: its ``img_id``, else the image file's
    name without the suffix."""
    img_id = info.get('img_id') or osp.splitext(osp.basename(
        info['img_path']))[0]
    return str(img_id)


def pending_indices(dataset_cfg: dict, out_file: Callable[[str], str]
                    ) -> Tuple[List[int], int]:
    """(indices of the entries whose output ``out_file(img_id)`` does not
    exist yet, dataset size): what a resumable per-image tool still has to
    do."""
    from mmwsss.registry import DATASETS
    dataset = DATASETS.build(dataset_cfg)
    todo = [
        i for i in range(len(dataset))
        if not osp.exists(out_file(info_id(dataset.get_data_info(i))))
    ]
    return todo, len(dataset)
