"""Score label PNGs (pseudo-masks, affinity labels, predictions) against the
ground truth of a config's dataset with stock MMSeg's ``IoUMetric``.

    python tools/eval_masks.py CONFIG --mask-dir DIR [--split NAME] \\
        [--split-key test_dataloader] [--ignore-pred] [--out metrics.json]

Every image of the split needs ``{mask_dir}/{img_id}.png`` (class ids;
palette or grey PNGs). Pixels whose GT is 255 are ignored. With
``--ignore-pred`` pixels the *prediction* marks 255 (e.g. the uncertain
band of affinity labels) are left out as well, and the covered fraction is
reported; without it they count as errors. Prints per-class IoU and, on
the last line, a JSON summary (``mask/mIoU``, ``mask/aAcc``,
``mask/coverage``).
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional

import numpy as np
import torch
from tqdm import tqdm

from mmwsss.apis.tool_utils import add_cfg_options
from mmwsss.utils.io import atomic_write_bytes

IGNORE = 255


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='label-PNG mIoU')
    parser.add_argument('config', help='config with the dataset')
    parser.add_argument('--mask-dir', required=True, help='folder of PNGs')
    parser.add_argument('--split', help="a name in the config's data_splits")
    parser.add_argument(
        '--split-key', default='test_dataloader',
        help='config key of the dataloader whose dataset is scored')
    parser.add_argument(
        '--ignore-pred', action='store_true',
        help='leave out pixels the masks mark 255 (report coverage)')
    parser.add_argument('--out', help='also write the summary JSON here')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmseg.evaluation import IoUMetric

    from mmwsss.apis.tool_utils import build_split_dataset, missing_files
    from mmwsss.utils.io import load_label, sample_id

    try:
        _, dataset = build_split_dataset(args.config, args.cfg_options,
                                         args.split, args.split_key)
    except (FileNotFoundError, KeyError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    num_classes = len(dataset.metainfo['classes'])
    metric = IoUMetric(ignore_index=IGNORE)
    metric.dataset_meta = dataset.metainfo

    items = []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        img_id = sample_id(info)
        gt = info.get('seg_map_path')
        if gt and osp.isfile(gt):
            items.append((img_id, osp.join(args.mask_dir, f'{img_id}.png'),
                          gt))
    missing = missing_files([m for _, m, _ in items], 'masks')
    if missing:
        print(f'error: {missing}; make them for this split first',
              file=sys.stderr)
        return 1
    if not items:
        print('error: no image of the split has a GT mask', file=sys.stderr)
        return 1
    covered = total = 0
    try:
        for img_id, mask_file, gt_file in tqdm(items, desc='eval masks'):
            pred = load_label(mask_file, 'mask').astype(np.int64)
            gt = load_label(gt_file).astype(np.int64)
            if pred.shape != gt.shape:
                raise ValueError(f'{mask_file}: size {pred.shape} differs '
                                 f'from the GT {gt_file} {gt.shape}')
            bad = (pred >= num_classes) & (pred != IGNORE)
            if bad.any():
                raise ValueError(f'{mask_file}: value {int(pred[bad][0])} is '
                                 f'not a class id (0..{num_classes - 1}, '
                                 f'{IGNORE})')
            valid = gt != IGNORE
            total += int(valid.sum())
            if args.ignore_pred:
                gt = np.where(pred == IGNORE, IGNORE, gt)
                covered += int((valid & (pred != IGNORE)).sum())
            metric.results.append(
                metric.intersect_and_union(
                    torch.from_numpy(pred), torch.from_numpy(gt),
                    num_classes, IGNORE))
    except (OSError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    scores = metric.compute_metrics(metric.results)
    summary = {
        'mask/mIoU': round(float(scores['mIoU']), 2),
        'mask/aAcc': round(float(scores['aAcc']), 2),
        'mask/coverage': round(100.0 * (covered if args.ignore_pred
                                        else total) / max(total, 1), 2),
        'mask/images': len(items),
    }
    if args.out:
        atomic_write_bytes(args.out, json.dumps(summary).encode())
    print(json.dumps(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
