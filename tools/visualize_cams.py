"""Write CAM overlay images (image, ground truth, one heat map per class,
each captioned above, with a class legend) for a split.

    python tools/visualize_cams.py CONFIG --cam-dir DIR --out-dir DIR
                                   [--split NAME] [--num N]
                                   [--gt | --no-gt] [--format png|jpg]
                                   [--cfg-options k=v ...]

The ground-truth panel is shown by default when the data set has masks
(``--gt`` requires it, ``--no-gt`` leaves it out). PNG (the default) is
lossless; small images are enlarged so the captions stay readable.
"""
import argparse
import os.path as osp
import sys
from typing import Optional

import mmwsss  # noqa: F401  isort:skip
import mmcv

from mmwsss.apis.tool_utils import (add_cfg_options, build_split_dataset,
                                    ensure_dir, report_error)
from mmwsss.utils import atomic_path, save_rgb_png
from mmwsss.utils.cam_io import CAMFileError, cam_path, load_cam
from mmwsss.utils.errors import USER_ERRORS, DataError
from mmwsss.utils.io import load_label, sample_id
from mmwsss.visualization import (IGNORE_COLOUR, draw_legend, label_palette,
                                  legend_entries, overlay_cams, vstack)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='CAM overlays')
    parser.add_argument('config')
    parser.add_argument('--cam-dir', required=True)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split')
    parser.add_argument('--num', type=int, default=16,
                        help='number of images (0: all)')
    gt = parser.add_mutually_exclusive_group()
    gt.add_argument('--gt', dest='gt', action='store_true', default=None,
                    help='show the ground truth (default: when the data '
                    'set has masks)')
    gt.add_argument('--no-gt', dest='gt', action='store_false',
                    help='leave the ground truth out')
    parser.add_argument('--format', default='png', choices=['png', 'jpg'],
                        help='image format (default png, lossless)')
    add_cfg_options(parser)
    return parser.parse_args()


def read_gt(info: dict, required: bool) -> Optional[object]:
    """The GT label map of a data set entry, or None when it has none
    (an error when ``required``)."""
    path = info.get('seg_map_path')
    if path and osp.isfile(path):
        return load_label(path)
    if required:
        raise DataError(f'--gt: no mask for {info["img_path"]} '
                        f'({path or "the data set has no seg_map_path"})')
    return None


def main() -> int:
    args = parse_args()
    try:
        _, dataset = build_split_dataset(args.config, args.cfg_options,
                                         args.split)
    except (KeyError, *USER_ERRORS) as err:
        return report_error(err)
    names = dataset.metainfo['classes']
    palette = label_palette(dataset.metainfo.get('palette'))
    legend_names, legend_colours = legend_entries(names, palette,
                                                  IGNORE_COLOUR)
    ensure_dir(args.out_dir)
    count = len(dataset) if args.num <= 0 else min(args.num, len(dataset))
    for i in range(count):
        info = dataset.get_data_info(i)
        img_id = sample_id(info)
        try:
            cams, keys = load_cam(cam_path(args.cam_dir, img_id))
            gt = read_gt(info, args.gt is True) if args.gt is not False \
                else None
        except (CAMFileError, OSError, *USER_ERRORS) as err:
            return report_error(err)
        image = mmcv.imread(info['img_path'], channel_order='rgb')
        panel = overlay_cams(image, cams, keys, names, gt=gt,
                             palette=palette)
        if gt is not None:
            panel = vstack([
                panel,
                draw_legend(legend_names, legend_colours, panel.shape[1])
            ])
        target = osp.join(args.out_dir, f'{img_id}.{args.format}')
        if args.format == 'png':
            save_rgb_png(target, panel)
        else:
            with atomic_path(target) as tmp:
                mmcv.imwrite(mmcv.rgb2bgr(panel), tmp)
    print(f'wrote {count} overlays ({args.format}) to {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
