"""mIoU of CAMs turned into label maps by a background threshold.

Two protocols, reported side by side because the literature mixes them:

* **oracle sweep** (``thresholds``): every threshold of a grid is scored
  against the ground truth and the best one is reported, as the CAM/seed
  numbers of the WSSS papers are;
* **fixed** (``threshold``): one value declared in the config, no GT tuning,
  which is what a deployment (or the next pipeline stage) actually uses.

Per image and per threshold the metric stores mmseg's
``IoUMetric.intersect_and_union`` areas (intersection, union, prediction,
label), keeping only the classes that occur, so the results gathered across
ranks stay small; ``compute_metrics`` sums them and reuses
``IoUMetric.total_area_to_metrics``, hence the numbers equal stock mmseg's
``IoUMetric`` on the same predictions (mean IoU over classes that occur,
``nanmean``).
"""
import json
import logging
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.evaluation.metrics import IoUMetric
from prettytable import PrettyTable

from mmwsss.crf import DenseCRF, build_dense_crf
from mmwsss.registry import METRICS
from mmwsss.utils.cam_utils import (fg_max_and_index, index_to_label,
                                    sweep_thresholds, threshold_index)
from mmwsss.utils.io import atomic_write_bytes, load_rgb

PROTOCOL_SWEEP = 'best threshold swept against GT (oracle, as in papers)'
PROTOCOL_FIXED = 'fixed threshold from config (no GT tuning)'
PROTOCOL_MAP = 'per-pixel background map (e.g. 1 - saliency), no threshold'
BACKGROUNDS = ('threshold', 'map')


def _field(sample: dict, key: str) -> Optional[torch.Tensor]:
    """A tensor field of a data-sample dict, unwrapping ``{'data': x}`` and
    ``PixelData``; None when absent."""
    value = sample.get(key)
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get('data')
    elif not isinstance(value, (torch.Tensor, np.ndarray)):
        value = getattr(value, 'data', value)  # PixelData
    if value is None:
        return None
    return torch.as_tensor(value)


def _as_tensor(value, device=None) -> torch.Tensor:
    """Tensor view of an array; read-only numpy arrays (e.g. from PIL) are
    copied, as torch cannot wrap them safely."""
    if isinstance(value, np.ndarray) and not value.flags.writeable:
        value = value.copy()
    return torch.as_tensor(value, device=device)


def _nanmean(values: np.ndarray) -> float:
    """Mean ignoring NaN; NaN (without a warning) when nothing is left."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float('nan')


def _headline(summary: Dict[str, float]) -> Dict[str, float]:
    """The metrics reported for the chosen threshold."""
    return {k: summary[k]
            for k in ('mIoU', 'mIoU_fg', 'mPrecision', 'mRecall', 'aAcc')}


@METRICS.register_module()
class CAMIoUMetric(BaseMetric):
    """CAM mIoU with a constant background score, swept and/or fixed.

    Data samples (dicts) must carry ``cams`` (K×H×W in [0, 1]), ``cam_keys``
    (K class ids) and ``gt_sem_seg.data`` (1×H×W); samples without GT are
    skipped. With ``crf`` set, ``img_path`` is read to refine every
    thresholded map with :meth:`DenseCRF.infer_labels` (one CRF per image and
    threshold: slow on a full sweep).

    With ``background='map'`` the background score is not a constant but a
    per-pixel map (H×W, e.g. ``1 − saliency``: the C²AM/P-NOC protocol of
    combining saliency with CAMs): samples carry it as ``background`` (or
    it is passed to :meth:`sample_areas`), each image gets one prediction
    ``argmax([bg, cams])`` (ties → background) and nothing is swept.

    Args:
        num_classes: classes including background; default
            ``len(dataset_meta['classes'])``.
        ignore_index: GT value excluded from scoring.
        thresholds: background scores to sweep (oracle protocol). None gives
            0.05, 0.10, ..., 0.95; an empty sequence disables the sweep.
        threshold: fixed background score (fixed protocol), or None.
        crf: None, or :class:`DenseCRF` keyword arguments (optionally with a
            ``preset`` key, e.g. ``dict(preset='crf_label')``).
        crf_gt_prob: label confidence for the CRF unary.
        output_curve: JSON file receiving the per-threshold curve.
        background: ``'threshold'`` (constant scores) or ``'map'`` (a
            per-pixel background map; ``thresholds``/``threshold`` unset).
        collect_device: 'cpu' or 'gpu', for gathering results across ranks.
        prefix: prefix of the returned metric names.
        collect_dir: folder for CPU collection across ranks.
    """

    default_prefix = 'cam'

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 thresholds: Optional[Sequence[float]] = None,
                 threshold: Optional[float] = None,
                 crf: Optional[dict] = None,
                 crf_gt_prob: float = 0.7,
                 output_curve: Optional[str] = None,
                 background: str = 'threshold',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = 'cam',
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device, prefix=prefix,
            collect_dir=collect_dir)
        if background not in BACKGROUNDS:
            raise ValueError(f'background must be one of {BACKGROUNDS}, got '
                             f'{background!r}')
        self.background = background
        if background == 'map':
            if thresholds or threshold is not None:
                raise ValueError("background='map' takes no thresholds: the "
                                 'background score is the per-pixel map')
            thresholds = []
        sweep = sweep_thresholds() if thresholds is None else [
            round(float(t), 6) for t in thresholds
        ]
        if not sweep and threshold is None and background != 'map':
            raise ValueError('CAMIoUMetric needs a threshold sweep, a fixed '
                             'threshold, or both')
        self.sweep: List[float] = sweep
        self.fixed: Optional[float] = (None if threshold is None else round(
            float(threshold), 6))
        # Every distinct threshold is evaluated once.
        extra = [] if self.fixed is None else [self.fixed]
        self.eval_thresholds: List[float] = list(dict.fromkeys(sweep + extra))
        self._num_classes = num_classes
        self.ignore_index = ignore_index
        self.crf: Optional[DenseCRF] = build_dense_crf(crf)
        self.crf_gt_prob = crf_gt_prob
        self.output_curve = output_curve

    @property
    def num_levels(self) -> int:
        """Predictions scored per image: one per threshold, or one."""
        return 1 if self.background == 'map' else len(self.eval_thresholds)

    @property
    def num_classes(self) -> int:
        """Classes including background."""
        if self._num_classes is not None:
            return int(self._num_classes)
        meta = self.dataset_meta or {}
        if 'classes' not in meta:
            raise ValueError('CAMIoUMetric needs num_classes or '
                             "dataset_meta['classes']")
        return len(meta['classes'])

    # ---------------------------------------------------------------- process
    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store per-threshold areas of every sample (None without GT, so
        every sample yields one result and rank padding is dropped right)."""
        for sample in data_samples:
            gt = _field(sample, 'gt_sem_seg')
            if gt is None:
                self.results.append(None)
                continue
            cams = _field(sample, 'cams')
            keys = _field(sample, 'cam_keys')
            if cams is None or keys is None:
                raise KeyError(
                    f"data sample of {sample.get('img_path', '?')} lacks "
                    "'cams'/'cam_keys'; is the model in CAM test mode?")
            image = None
            if self.crf is not None:
                image = load_rgb(sample['img_path'])
            background = None
            if self.background == 'map':
                background = _field(sample, 'background')
                if background is None:
                    raise KeyError(
                        f"data sample of {sample.get('img_path', '?')} lacks "
                        "'background', needed by background='map'")
            self.results.append(
                self.sample_areas(
                    cams, keys, gt, image, name=sample.get('img_path'),
                    background=background))

    def sample_areas(self,
                     cams: Union[np.ndarray, torch.Tensor],
                     keys: Union[np.ndarray, torch.Tensor],
                     gt: Union[np.ndarray, torch.Tensor],
                     image: Optional[np.ndarray] = None,
                     name: Optional[str] = None,
                     background: Union[None, np.ndarray, torch.Tensor] = None
                     ) -> Dict[str, torch.Tensor]:
        """Areas of one image for every threshold (or for the background
        map).

        Args:
            cams: K×H×W CAMs in [0, 1].
            keys: K class ids.
            gt: H×W (or 1×H×W) ground-truth class ids.
            image: H×W×3 uint8 RGB, needed when a CRF is configured.
            name: image name used in error messages.
            background: H×W per-pixel background score; required by, and
                only allowed with, ``background='map'``.

        Returns:
            ``dict(classes=(k,) int64, areas=(T, 4, k) int64)``: the classes
            with a non-zero area and their intersection / union / prediction /
            label pixel counts per threshold.
        """
        name = name or 'image'
        cams = _as_tensor(cams).float()
        keys = _as_tensor(keys, cams.device).long().reshape(-1)
        gt = _as_tensor(gt, cams.device)
        if gt.ndim == 3 and gt.shape[0] == 1:
            gt = gt[0]
        gt = gt.long()
        num_classes = self.num_classes
        if cams.ndim != 3 or len(keys) != cams.shape[0]:
            raise ValueError(f'{name}: expected K×H×W cams with K keys, got '
                             f'cams {tuple(cams.shape)}, {len(keys)} keys')
        if tuple(cams.shape[1:]) != tuple(gt.shape):
            raise ValueError(f'{name}: CAM size {tuple(cams.shape[1:])} != GT '
                             f'size {tuple(gt.shape)}')
        if len(keys) and (keys.min() < 1 or keys.max() >= num_classes):
            raise ValueError(f'{name}: CAM keys must lie in 1..'
                             f'{num_classes - 1}, got {keys.tolist()}')
        if self.crf is not None:
            if image is None:
                raise ValueError(f'{name}: the CRF needs the image')
            if tuple(image.shape[:2]) != tuple(gt.shape):
                raise ValueError(f'{name}: image size {image.shape[:2]} != '
                                 f'CAM size {tuple(gt.shape)}')
        if (background is None) == (self.background == 'map'):
            raise ValueError(f"{name}: a background map is needed with (and "
                             f"only with) background='map', metric has "
                             f'{self.background!r}')
        levels = self.eval_thresholds
        if background is not None:
            background = _as_tensor(background, cams.device).float()
            if background.ndim == 3 and background.shape[0] == 1:
                background = background[0]
            if tuple(background.shape) != tuple(gt.shape):
                raise ValueError(f'{name}: background size '
                                 f'{tuple(background.shape)} != GT size '
                                 f'{tuple(gt.shape)}')
            levels = [background]
        score, index = fg_max_and_index(cams)
        areas = []
        for thr in levels:
            idx = threshold_index(score, index, thr)
            if self.crf is not None and len(keys):
                refined = self.crf.infer_labels(
                    image, idx.cpu().numpy(), n_labels=len(keys) + 1,
                    gt_prob=self.crf_gt_prob)
                idx = torch.from_numpy(refined).to(idx.device)
            pred = index_to_label(idx, keys)
            areas.append(
                torch.stack(
                    IoUMetric.intersect_and_union(pred, gt, num_classes,
                                                  self.ignore_index)))
        areas = torch.stack(areas)  # T×4×C
        classes = torch.nonzero((areas != 0).flatten(0, 1).any(0))[:, 0]
        return dict(
            classes=classes.cpu(),
            areas=areas[:, :, classes].round().long().cpu())

    # ---------------------------------------------------------------- compute
    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Sum the areas, score every threshold and report the best swept
        one and/or the fixed one."""
        records = [r for r in results if r is not None]
        if not records:
            print_log(
                'CAMIoUMetric: no sample had ground truth; nothing to score',
                logger='current', level=logging.WARNING)
            return {}
        num_classes = self.num_classes
        total = torch.zeros(
            self.num_levels, 4, num_classes, dtype=torch.float64)
        for rec in records:
            total[:, :, rec['classes']] += rec['areas'].double()
        per_thr = [self._threshold_metrics(t_areas) for t_areas in total]

        metrics: Dict[str, float] = {}
        tables = []
        if self.background == 'map':
            summary = per_thr[0]
            metrics.update(_headline(summary))
            tables.append((PROTOCOL_MAP, 0))
        if self.sweep:
            sweep_ids = [self.eval_thresholds.index(t) for t in self.sweep]
            scores = [per_thr[i]['mIoU_raw'] for i in sweep_ids]
            best = sweep_ids[int(np.argmax(np.nan_to_num(scores, nan=-1.0)))]
            summary = per_thr[best]
            metrics.update(_headline(summary),
                best_threshold=self.eval_thresholds[best])
            tables.append((f'{PROTOCOL_SWEEP}: t={self.eval_thresholds[best]}'
                           f' of {len(self.sweep)} values '
                           f'{self.sweep[0]}..{self.sweep[-1]}', best))
        if self.fixed is not None:
            fixed = self.eval_thresholds.index(self.fixed)
            summary = per_thr[fixed]
            if not self.sweep:
                metrics.update(_headline(summary))
            metrics['mIoU@fixed'] = summary['mIoU']
            metrics['mIoU_fg@fixed'] = summary['mIoU_fg']
            tables.append((f'{PROTOCOL_FIXED}: t={self.fixed}', fixed))

        self._log_results(per_thr, tables, len(records))
        if self.output_curve:
            self._write_curve(per_thr, metrics, len(records))
        return metrics

    @staticmethod
    def _threshold_metrics(areas: torch.Tensor) -> dict:
        """mmseg metrics of one threshold's summed 4×C areas; means in %."""
        ret = IoUMetric.total_area_to_metrics(
            areas[0], areas[1], areas[2], areas[3],
            metrics=['mIoU', 'mFscore'])

        def percent(value: float) -> float:
            return float(np.round(value * 100, 2))  # rounded as mmseg does

        return dict(
            IoU=ret['IoU'],
            Precision=ret['Precision'],
            Recall=ret['Recall'],
            mIoU_raw=_nanmean(ret['IoU']),  # unrounded, picks the best
            mIoU=percent(_nanmean(ret['IoU'])),
            mIoU_fg=percent(_nanmean(ret['IoU'][1:])),
            mPrecision=percent(_nanmean(ret['Precision'])),
            mRecall=percent(_nanmean(ret['Recall'])),
            aAcc=percent(float(ret['aAcc'])))

    def _class_names(self) -> List[str]:
        meta = self.dataset_meta or {}
        names = list(meta.get('classes', []))
        if len(names) != self.num_classes:
            names = [str(i) for i in range(self.num_classes)]
        return names

    def _log_results(self, per_thr: List[dict], tables: list,
                     num_images: int) -> None:
        """Print the curve, the protocol lines and per-class tables."""
        curve = ', '.join(f'{t:g}: {m["mIoU"]:.2f}'
                          for t, m in zip(self.eval_thresholds, per_thr))
        if self.background == 'map':
            curve = f'background map: {per_thr[0]["mIoU"]:.2f}'

        print_log(f'CAM mIoU over {num_images} images with ground truth; '
                  f'curve (threshold: mIoU) {curve}', logger='current')
        names = self._class_names()
        for protocol, idx in tables:
            res = per_thr[idx]
            table = PrettyTable()
            table.add_column('Class', names)
            for key in ('IoU', 'Precision', 'Recall'):
                table.add_column(key, np.round(res[key] * 100, 2).tolist())
            print_log(f'protocol: {protocol}', logger='current')
            print_log(f'per class results (mIoU {res["mIoU"]:.2f}, '
                      f'fg mIoU {res["mIoU_fg"]:.2f}):', logger='current')
            print_log('\n' + table.get_string(), logger='current')

    def _write_curve(self, per_thr: List[dict], metrics: dict,
                     num_images: int) -> None:
        """Write the per-threshold curve as JSON (NaN as null), atomically."""

        def clean(values) -> list:
            return [
                None if np.isnan(v) else round(float(v), 6)
                for v in np.asarray(values, dtype=np.float64).ravel()
            ]

        curve = dict(
            protocol=dict(
                sweep=PROTOCOL_SWEEP if self.sweep else None,
                fixed=PROTOCOL_FIXED if self.fixed is not None else None,
                background_map=(PROTOCOL_MAP
                                if self.background == 'map' else None)),
            num_images=num_images,
            classes=self._class_names(),
            thresholds=self.eval_thresholds,
            sweep_thresholds=self.sweep,
            fixed_threshold=self.fixed,
            best_threshold=metrics.get('best_threshold'),
            summary={k: (None if np.isnan(v) else v)
                     for k, v in metrics.items()},
            mIoU=clean([m['mIoU'] for m in per_thr]),
            mIoU_fg=clean([m['mIoU_fg'] for m in per_thr]),
            mPrecision=clean([m['mPrecision'] for m in per_thr]),
            mRecall=clean([m['mRecall'] for m in per_thr]),
            IoU=[clean(m['IoU']) for m in per_thr],
            Precision=[clean(m['Precision']) for m in per_thr],
            Recall=[clean(m['Recall']) for m in per_thr])
        data = json.dumps(curve, indent=1, allow_nan=False)
        atomic_write_bytes(self.output_curve, data.encode())
