"""Score saliency maps against the ground truth of a config's dataset.

    python tools/eval_saliency.py CONFIG --sal-dir SAL [--split NAME] \\
        [--cam-dir CAMS] [--thresholds 0.05 0.1 ...] [--crf] \\
        [--crf-gt-prob 0.7] [--workers N] [--cfg-options k=v ...]

Two protocols (README: C²AM), both on mmseg's ``IoUMetric`` arithmetic
through :class:`mmwsss.evaluation.CAMIoUMetric`:

* **binary saliency** (always): GT classes collapsed to salient (any
  foreground class) / background (255 stays ignored); a pixel is salient
  when ``saliency > t``; 2-class mIoU at the best ``t`` of a sweep (oracle,
  as the reference's ``eval_mode=saliency``) with the whole curve;
* **CAMs + saliency** (``--cam-dir``, the paper's "C²AM-H 67.9 / PoolNet
  70.8" protocol): the stored CAMs with the background score ``1 −
  saliency`` per pixel (``argmax([1 − s, cams])``, ties → background),
  mIoU over all classes; nothing is swept.

CONFIG is any config whose ``test_dataloader`` dataset has GT masks (e.g.
the C²AM config; ``--split`` picks a named split). The last output line is
a JSON summary.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional, Tuple

import numpy as np

from mmwsss.apis.image_jobs import ImageJob, run_jobs
from mmwsss.apis.tool_utils import (add_cfg_options, add_crf_options,
                                    crf_from_args)
from mmwsss.evaluation import CAMIoUMetric
from mmwsss.utils.cam_io import CAMFileError, cam_path, load_cam
from mmwsss.utils.io import load_label, load_rgb, sample_id
from mmwsss.utils.saliency_io import (SaliencyFileError, load_saliency,
                                      saliency_path)

SALIENCY_CLASSES = ('background', 'salient')
# (img_id, saliency file, GT file or None, image file, CAM file or None)
Item = Tuple[str, str, Optional[str], str, Optional[str]]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='saliency mIoU evaluation')
    parser.add_argument('config', help='config with a GT-labelled dataset')
    parser.add_argument('--sal-dir', required=True,
                        help='folder of saliency PNGs')
    parser.add_argument('--cam-dir', help='folder of .npz CAMs: also score '
                        'CAMs with background = 1 - saliency')
    parser.add_argument('--split', help="a name in the config's data_splits")
    parser.add_argument('--split-key', default='test_dataloader',
                        help='config key of the dataloader to score')
    parser.add_argument('--thresholds', type=float, nargs='+',
                        help='binary saliency thresholds to sweep '
                        '(default 0.05, 0.10, ..., 0.95)')
    add_crf_options(parser)
    parser.add_argument('--curve-out', help='JSON file for the binary '
                        'saliency mIoU curve')
    parser.add_argument('--workers', type=int, default=1,
                        help='worker processes')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def binarize(gt: np.ndarray, ignore_index: int = 255) -> np.ndarray:
    """Any foreground class → 1; background and ignore kept."""
    return np.where((gt != 0) & (gt != ignore_index), 1, gt)


class SampleJob(ImageJob):
    """Areas of one image for both protocols."""

    passthrough = (CAMFileError, SaliencyFileError, FileNotFoundError)

    def __init__(self, binary: CAMIoUMetric,
                 combined: Optional[CAMIoUMetric]) -> None:
        self.binary = binary
        self.combined = combined

    def run(self, item: Item) -> Optional[tuple]:
        img_id, sal_file, gt_file, img_file, cam_file = item
        if not gt_file or not osp.isfile(gt_file):
            return None  # unlabelled image: skipped, as in the metric
        sal = load_saliency(sal_file)
        gt = load_label(gt_file)
        if sal.shape != gt.shape:
            raise ValueError(f'{sal_file}: saliency size {sal.shape} != GT '
                             f'size {gt.shape}')
        needs_image = self.binary.crf is not None
        image = load_rgb(img_file) if needs_image else None
        binary = self.binary.sample_areas(
            sal[None], np.array([1]), binarize(gt, self.binary.ignore_index),
            image, name=sal_file)
        combined = None
        if self.combined is not None:
            cams, keys = load_cam(cam_file)
            combined = self.combined.sample_areas(
                cams, keys, gt, image, name=cam_file, background=1.0 - sal)
        return binary, combined


def build_items(dataset, sal_dir: str, cam_dir: Optional[str]) -> List[Item]:
    items = []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        img_id = sample_id(info)
        items.append((img_id, saliency_path(sal_dir, img_id),
                      info.get('seg_map_path'), info['img_path'],
                      cam_path(cam_dir, img_id) if cam_dir else None))
    return items


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmwsss.apis.tool_utils import build_split_dataset, missing_files

    try:
        _, dataset = build_split_dataset(args.config, args.cfg_options,
                                         args.split, args.split_key)
    except (FileNotFoundError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    crf = crf_from_args(args)
    try:
        binary = CAMIoUMetric(
            num_classes=2, thresholds=args.thresholds, crf=crf,
            crf_gt_prob=args.crf_gt_prob, output_curve=args.curve_out,
            prefix='saliency')
        combined = CAMIoUMetric(
            background='map', crf=crf, crf_gt_prob=args.crf_gt_prob,
            prefix='cams_saliency') if args.cam_dir else None
    except (TypeError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    binary.dataset_meta = dict(classes=SALIENCY_CLASSES)
    if combined is not None:
        combined.dataset_meta = dataset.metainfo

    items = build_items(dataset, args.sal_dir, args.cam_dir)
    labelled = [it for it in items if it[2] and osp.isfile(it[2])]
    for kind, pos in (('saliency maps', 1), ('CAM files', 4)):
        missing = missing_files([it[pos] for it in labelled if it[pos]],
                                kind)
        if missing:
            print(f'error: {missing}', file=sys.stderr)
            return 1
    print(f'split: {args.split_key} ({type(dataset).__name__}, '
          f'{len(items)} images, {len(labelled)} with GT)')

    job = SampleJob(binary, combined)
    try:
        results = run_jobs(job, items, args.workers, 'eval saliency')
    except (CAMFileError, SaliencyFileError, FileNotFoundError,
            RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    binary.results.extend(r and r[0] for r in results)
    summary = dict(saliency=binary.evaluate(len(results)))
    if combined is not None:
        combined.results.extend(r and r[1] for r in results)
        summary['cams_saliency'] = combined.evaluate(len(results))
    print(json.dumps(summary))
    return 0 if summary['saliency'] else 1


if __name__ == '__main__':
    sys.exit(main())
