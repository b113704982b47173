"""Check a segmentation training set's mask values before training."""
import os
from typing import Dict, List, Optional

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmwsss.datasets.base import parallel_map, read_mask_values
from mmwsss.registry import HOOKS
from mmwsss.utils.errors import DataError


def leaf_datasets(dataset) -> List:
    """The data sets inside dataset wrappers (``ConcatDataset``,
    ``RepeatDataset``, ...)."""
    if hasattr(dataset, 'datasets'):
        return [d for sub in dataset.datasets for d in leaf_datasets(sub)]
    if hasattr(dataset, 'dataset'):
        return leaf_datasets(dataset.dataset)
    return [dataset]


def train_values(values: np.ndarray, reduce_zero_label: bool,
                 label_map: Optional[Dict[int, int]]) -> np.ndarray:
    """The label values ``LoadAnnotations`` makes of a mask's values
    (``reduce_zero_label`` first, then ``label_map``)."""
    values = np.asarray(values, np.int64)
    if reduce_zero_label:
        values = np.where(values == 0, 255, values - 1)
        values[values == 254] = 255
    if label_map:
        values = np.array([label_map.get(int(v), int(v)) for v in values],
                          np.int64)
    return values


def check_mask_labels(dataset, workers: int = 1) -> int:
    """Read every mask of a segmentation ``dataset`` once and refuse a
    value that is neither a class index nor ``ignore_index``: the loss
    would fail mid-run ("Target 37 is out of bounds") naming no file.

    Returns:
        The number of masks checked.

    Raises:
        DataError: names the first bad PNG, its value and the valid range.
    """
    num_classes = len(dataset.metainfo['classes'])
    ignore = getattr(dataset, 'ignore_index', 255)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    paths = [info['seg_map_path'] for info in infos
             if info.get('seg_map_path')]

    def bad_value(path: str) -> Optional[int]:
        values = train_values(
            read_mask_values(path), dataset.reduce_zero_label,
            dataset.label_map)
        bad = values[(values >= num_classes)
                          & (values != ignore)]
        return int(bad[0]) if bad.size else None

    for path, bad in zip(paths, parallel_map(bad_value, paths, workers)):
        if bad is not None:
            raise DataError(
                f'{path}: mask value {bad} is not a class index; '
                f'{type(dataset).__name__} has {num_classes} classes, so '
                f'valid values are 0..{num_classes - 1} and {ignore} '
                '(ignore). Were the masks made with another class list? '
                'Remake them (tools/make_pseudo_masks.py --config) or fix '
                'the metainfo classes')
    return len(paths)


@HOOKS.register_module()
class CheckSegLabelsHook(Hook):
    """Before training, check that every mask of the training set holds
    class indices (``0..num_classes-1``) or ``ignore_index`` only, and
    stop with an error naming the first bad file otherwise.

    Reads each mask once (threads); for pseudo-masks made elsewhere, whose
    class ids a wrong class list would put out of range.

    Args:
        workers: reader threads; None uses ``min(8, cpu_count)``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, workers: Optional[int] = None) -> None:
        self.workers = min(8, os.cpu_count() or 1) if workers is None \
            else workers

    def before_train(self, runner) -> None:
        checked = sum(
            check_mask_labels(dataset, self.workers)
            for dataset in leaf_datasets(runner.train_dataloader.dataset))
        print_log(f'checked the label values of {checked} training masks',
                  logger='current')
