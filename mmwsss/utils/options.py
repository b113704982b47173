"""Option dicts of the models (``test_cfg``, ``hint``, ``ema``, ...) and
the named data splits of a config."""
from typing import Mapping, Optional

from mmengine.config import Config


def merge_options(given: Optional[Mapping], defaults: Mapping,
                  what: str) -> dict:
    """``defaults`` updated with ``given``; a key ``defaults`` lacks (a
    typo in a config) raises instead of being silently ignored.

    Raises:
        KeyError: ``'unknown {what} keys [...]; valid: [...]'``.
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise KeyError(f'unknown {what} keys {unknown}; valid: '
                       f'{sorted(defaults)}')
    return {**defaults, **given}


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
