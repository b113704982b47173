"""Write the HTML report of a pipeline run: stage table, threshold curves
and a grid of samples (image / GT / CAM / random walk / pseudo-mask /
prediction).

    python tools/make_report.py WORK_DIR --data-root DIR [--num N]
                                [--out WORK_DIR/report/index.html]
                                [--split train] [--val-split val]

Open the HTML from disk; ``tools/check_report.py`` loads it in a headless
browser and fails on broken images.
"""
import argparse
import sys

import mmwsss  # noqa: F401  isort:skip
from mmwsss.apis.tool_utils import report_error
from mmwsss.utils.errors import USER_ERRORS, ConfigError
from mmwsss.visualization.report import build_report


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='HTML report of a run')
    parser.add_argument('work_dir', help='the pipeline\'s work folder')
    parser.add_argument('--data-root', required=True,
                        help='the VOC-layout data set of the run')
    parser.add_argument('--num', type=int, default=8,
                        help='samples per grid (default 8)')
    parser.add_argument('--out', help='HTML file (default '
                        'WORK_DIR/report/index.html)')
    parser.add_argument('--split', default='train',
                        help='split of the CAM grid (default train)')
    parser.add_argument('--val-split', default='val',
                        help='split of the held-out grid (default val)')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.num < 1:
        return report_error(ConfigError(f'--num must be >= 1, got '
                                        f'{args.num}'))
    try:
        report = build_report(args.work_dir, args.data_root, args.out,
                              args.num, args.split, args.val_split)
    except USER_ERRORS as err:
        return report_error(err)
    print(f'wrote {report.path} ({report.samples} samples, '
          f'{report.images} images)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
