"""Score stored CAMs against the ground truth of a config's dataset.

    python tools/eval_cams.py CONFIG --cam-dir CAMS [--split NAME] \\
        [--split-key test_dataloader|val_dataloader] [--threshold T] \\
        [--no-sweep] [--crf [--crf-preset ...]] [--curve-out curve.json] \\
        [--workers N]

Builds ``cfg[split_key].dataset``, loads ``{cam_dir}/{img_id}.npz`` and the
GT PNG of every image and runs :class:`mmwsss.evaluation.CAMIoUMetric`: the
best threshold of a sweep against GT (oracle, as in papers) and, with
``--threshold`` or a ``threshold`` in the config's CAMIoUMetric evaluator,
the fixed-threshold mIoU. Settings of a ``CAMIoUMetric`` found in the
matching ``*_evaluator`` of the config are the defaults; flags override them
(``--crf`` replaces the config's CRF and its label confidence by the CRF
options').
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional, Tuple

from mmwsss.apis.image_jobs import ImageJob, run_jobs
from mmwsss.apis.tool_utils import (add_cfg_options, add_crf_options,
                                    crf_from_args)
from mmwsss.evaluation import CAMIoUMetric
from mmwsss.utils.cam_io import CAMFileError, cam_path, load_cam
from mmwsss.utils.io import load_label, load_rgb, sample_id

# (img_id, cam file, GT file or None, image file)
Item = Tuple[str, str, Optional[str], str]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='CAM mIoU evaluation')
    parser.add_argument('config', help='config with the dataset')
    parser.add_argument('--cam-dir', required=True, help='folder of .npz CAMs')
    parser.add_argument(
        '--split-key', default='test_dataloader',
        help='config key of the dataloader whose dataset is scored')
    parser.add_argument(
        '--split', help="a name in the config's data_splits (default: the "
        'dataloader as configured)')
    add_cfg_options(parser)
    parser.add_argument(
        '--threshold', type=float, help='fixed background threshold')
    parser.add_argument(
        '--no-sweep', action='store_true',
        help='skip the GT threshold sweep (needs a fixed threshold)')
    add_crf_options(parser)
    parser.add_argument('--curve-out', help='JSON file for the mIoU curve')
    parser.add_argument(
        '--workers', type=int, default=1, help='worker processes')
    return parser.parse_args(argv)


def metric_kwargs(cfg, split_key: str, args: argparse.Namespace) -> dict:
    """CAMIoUMetric arguments: the config's evaluator, then the flags."""
    kwargs = {}
    evaluator = cfg.get(split_key.replace('_dataloader', '_evaluator'))
    entries = evaluator if isinstance(evaluator, (list, tuple)) else [
        evaluator
    ]
    for entry in entries:
        if isinstance(entry, dict) and str(entry.get('type', '')).split(
                '.')[-1] == 'CAMIoUMetric':
            kwargs = {k: v for k, v in entry.items() if k != 'type'}
            break
    if args.threshold is not None:
        kwargs['threshold'] = args.threshold
    if args.no_sweep:
        kwargs['thresholds'] = []
    if args.crf:
        kwargs.update(crf=crf_from_args(args), crf_gt_prob=args.crf_gt_prob)
    if args.curve_out:
        kwargs['output_curve'] = args.curve_out
    return kwargs


def dataset_items(dataset, cam_dir: str) -> List[Item]:
    """(img_id, cam file, GT file, image file) of every dataset entry."""
    items = []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        img_id = sample_id(info)
        items.append((img_id, cam_path(cam_dir, img_id),
                      info.get('seg_map_path'), info['img_path']))
    return items


class SampleJob(ImageJob):
    """Areas of one image."""

    passthrough = (CAMFileError, FileNotFoundError)

    def __init__(self, metric: CAMIoUMetric) -> None:
        self.metric = metric

    def run(self, item: Item) -> Optional[dict]:
        img_id, cam_file, gt_file, img_file = item
        if not gt_file or not osp.isfile(gt_file):
            return None  # unlabelled image: skipped, as in the metric
        cams, keys = load_cam(cam_file)
        gt = load_label(gt_file)
        image = load_rgb(img_file) if self.metric.crf is not None else None
        return self.metric.sample_areas(
            cams, keys, gt, image, name=cam_file)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmwsss.apis.tool_utils import build_split_dataset, missing_files

    try:
        cfg, dataset = build_split_dataset(args.config, args.cfg_options,
                                           args.split, args.split_key)
    except (FileNotFoundError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    if getattr(dataset, 'reduce_zero_label', False):
        print('error: reduce_zero_label datasets are not supported: CAM '
              'keys assume class 0 is background', file=sys.stderr)
        return 1
    try:
        metric = CAMIoUMetric(**metric_kwargs(cfg, args.split_key, args))
    except (TypeError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    metric.dataset_meta = dataset.metainfo

    items = dataset_items(dataset, args.cam_dir)
    missing = missing_files([cam for _, cam, _, _ in items], 'CAM files')
    if missing:
        print(f'error: {missing}; run tools/infer_cams.py for this split '
              'first', file=sys.stderr)
        return 1
    num_gt = sum(1 for it in items if it[2] and osp.isfile(it[2]))
    print(f'split: {args.split_key} ({type(dataset).__name__}, '
          f'{len(items)} images, {num_gt} with GT; '
          f"data_root={cfg[args.split_key]['dataset'].get('data_root')})")

    job = SampleJob(metric)
    try:
        results = run_jobs(job, items, args.workers, 'eval CAMs')
    except (CAMFileError, FileNotFoundError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    metric.results.extend(results)
    metrics = metric.evaluate(len(results))
    print(json.dumps(metrics))
    return 0 if metrics else 1


if __name__ == '__main__':
    sys.exit(main())
