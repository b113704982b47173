"""Train any stock MMSeg segmentor on WSSS pseudo-masks from one data config.

A stock MMSeg config already defines ``train_dataloader``, ``model`` and the
rest, and mmengine forbids the same top-level key in two ``_base_`` files,
so a pseudo-mask data config cannot simply redefine them. The data configs
``configs/_base_/datasets/*_pseudo.py`` therefore declare the data under
keys of their own (``pseudo_data``, ``pseudo_mask_dir``) and select
:class:`PseudoMaskRunner`, which applies them when the runner is built
(:func:`apply_pseudo_data`)::

    _base_ = ['mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
              '../_base_/datasets/voc12_pseudo.py']
    pseudo_mask_dir = 'work_dirs/pnoc_voc/pseudo_masks'
"""
import copy
from typing import Any, List, Optional

from mmengine.config import Config, ConfigDict
from mmengine.runner import Runner

from mmwsss.registry import DATASETS, RUNNERS

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _find_pipeline(dataset: dict) -> Optional[list]:
    """The pipeline of a dataset config, looking inside dataset wrappers
    (``RepeatDataset.dataset``, ``ConcatDataset.datasets[0]``)."""
    if dataset.get('pipeline') is not None:
        return dataset['pipeline']
    if isinstance(dataset.get('dataset'), dict):
        return _find_pipeline(dataset['dataset'])
    inner = dataset.get('datasets')
    if isinstance(inner, (list, tuple)) and inner and \
            isinstance(inner[0], dict):
        return _find_pipeline(inner[0])
    return None


def _keep_zero_label(node: Any) -> None:
    """Set ``reduce_zero_label=False`` on every ``LoadAnnotations`` of a
    (nested) pipeline: pseudo-masks use 0 for background (ADE20K configs
    load their masks with ``reduce_zero_label=True``)."""
    if isinstance(node, dict):
        if node.get('type') == 'LoadAnnotations' and \
                node.get('reduce_zero_label'):
            node['reduce_zero_label'] = False
        for value in node.values():
            _keep_zero_label(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _keep_zero_label(value)


def dataset_classes(dataset: dict) -> tuple:
    """Class names of a dataset config: its ``metainfo.classes``, else
    its type's ``METAINFO``."""
    classes = (dataset.get('metainfo') or {}).get('classes')
    if classes is None:
        ds_type = dataset.get('type')
        ds_cls = DATASETS.get(ds_type) if isinstance(ds_type, str) \
            else ds_type
        if ds_cls is None:
            raise KeyError(f'pseudo_data: unknown dataset type {ds_type!r} '
                           '(add custom_imports for its package?)')
        classes = getattr(ds_cls, 'METAINFO', {}).get('classes')
    if not classes:
        raise ValueError(f'pseudo_data: dataset {dataset.get("type")!r} '
                         'declares no classes; set pseudo_data.metainfo='
                         'dict(classes=...) or pseudo_data.num_classes')
    return tuple(classes)


def _heads(model: dict) -> List[dict]:
    """The decode and auxiliary head configs of a segmentor config (inside
    a TTA wrapper's ``module`` too)."""
    if isinstance(model.get('module'), dict):  # SegTTAModel(module=...)
        return _heads(model['module'])
    heads = []
    for key in ('decode_head', 'auxiliary_head'):
        value = model.get(key)
        if isinstance(value, dict):
            heads.append(value)
        elif isinstance(value, (list, tuple)):
            heads.extend(h for h in value if isinstance(h, dict))
    return heads


def _check_class_weights(node: Any, old: int, new: int, where: str) -> None:
    """Refuse per-class loss weights sized for the old class count."""
    if isinstance(node, dict):
        weights = node.get('class_weight')
        if isinstance(weights, (list, tuple)) and len(weights) in (
                old, old + 1) and len(weights) not in (new, new + 1):
            raise ValueError(
                f'{where}.class_weight has {len(weights)} entries for the '
                f'stock {old} classes, but the pseudo-masks have {new}; set '
                'it for the new classes (or to None) in your config')
        for key, value in node.items():
            _check_class_weights(value, old, new, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _check_class_weights(value, old, new, f'{where}[{i}]')


def set_num_classes(model: dict, num_classes: int) -> int:
    """Set ``num_classes`` in every decode/auxiliary head that has one
    (``out_channels`` too where it equals the old count); returns how many
    heads were changed."""
    changed = 0
    for i, head in enumerate(_heads(model)):
        old = head.get('num_classes')
        if old is None:
            continue
        _check_class_weights(head, old, num_classes, f'model head {i}')
        head['num_classes'] = num_classes
        if head.get('out_channels') == old and old != 1:
            head['out_channels'] = num_classes
        changed += 1
    return changed


def _split_dataset(pseudo: dict, split: str) -> dict:
    """The dataset config of one split: the shared ``pseudo_data`` keys
    merged with those of ``pseudo_data[split]``."""
    shared = {k: copy.deepcopy(v) for k, v in pseudo.items()
              if k not in ('train', 'val', 'test', 'num_classes')}
    fields = pseudo.get(split)
    if fields is None and split == 'test':
        fields = pseudo.get('val')
    if fields is None:
        raise KeyError(f'pseudo_data has no {split!r} entry')
    dataset = dict(shared, **copy.deepcopy(dict(fields)))
    if 'data_prefix' in shared and 'data_prefix' in fields:
        dataset['data_prefix'] = dict(shared['data_prefix'],
                                      **fields['data_prefix'])
    return dataset


def apply_pseudo_data(cfg: Config) -> Config:
    """Point a segmentor config at the pseudo-mask data it declares, in
    place, and return it.

    ``cfg.pseudo_data`` holds the dataset fields shared by all splits
    (``type``, ``data_root``, ``metainfo``, ...) and, per split, ``train``,
    ``val`` and optionally ``test`` (default: ``val``) fields; the train
    masks come from ``cfg.pseudo_mask_dir`` (relative to ``data_root``, or
    absolute). Each data loader keeps its sampler, batch size and the
    segmentor's own pipeline; its ``dataset`` is replaced. Every
    ``LoadAnnotations`` keeps label 0 (no ``reduce_zero_label``), and every
    decode/auxiliary head gets the data set's ``num_classes`` (from
    ``pseudo_data.num_classes`` or the classes of the train set). Applying
    it twice changes nothing more.

    Raises:
        KeyError: ``pseudo_data`` or a split entry is missing.
        ValueError: ``pseudo_mask_dir`` is unset, no pipeline or head with
            ``num_classes`` is found, or a loss has per-class weights.
    """
    pseudo = cfg.get('pseudo_data')
    if not pseudo:
        raise KeyError('PseudoMaskRunner needs `pseudo_data`: inherit one '
                       'of configs/_base_/datasets/*_pseudo.py')
    pseudo = pseudo.to_dict() if isinstance(pseudo, ConfigDict) else \
        dict(pseudo)
    mask_dir = cfg.get('pseudo_mask_dir')
    if not mask_dir:
        raise ValueError("set pseudo_mask_dir = 'DIR' (the folder of "
                         'pseudo-mask PNGs) in the config or with '
                         '--cfg-options pseudo_mask_dir=DIR')
    for loader, split in zip(LOADERS, ('train', 'val', 'test')):
        if not cfg.get(loader):
            continue
        pipeline = _find_pipeline(cfg[loader].get('dataset') or {})
        if pipeline is None:
            raise ValueError(f'{loader}.dataset has no pipeline to keep; '
                             'the stock config must define one')
        dataset = _split_dataset(pseudo, split)
        if split == 'train':
            dataset['data_prefix'] = dict(
                dataset.get('data_prefix') or {}, seg_map_path=mask_dir)
        dataset['pipeline'] = copy.deepcopy(pipeline)
        cfg[loader]['dataset'] = dataset
    _keep_zero_label([cfg.get(loader) for loader in LOADERS])
    _keep_zero_label(cfg.get('tta_pipeline'))

    num_classes = pseudo.get('num_classes') or len(
        dataset_classes(_split_dataset(pseudo, 'train')))
    if not set_num_classes(cfg.model, num_classes):
        raise ValueError('model has no decode_head/auxiliary_head with '
                         f'num_classes; set it to {num_classes} yourself')
    return cfg


@RUNNERS.register_module()
class PseudoMaskRunner(Runner):
    """mmengine's :class:`~mmengine.runner.Runner` after
    :func:`apply_pseudo_data`; selected by the pseudo-mask data configs
    (``runner_type = 'mmwsss.PseudoMaskRunner'``), so stock entry points
    (MMSeg's ``tools/train.py``, ``mim train``) and ours use it."""

    @classmethod
    def from_cfg(cls, cfg: Config) -> Runner:
        return super().from_cfg(apply_pseudo_data(copy.deepcopy(cfg)))
