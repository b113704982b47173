"""Write CAM overlay images (image + one heat map per class) for a split.

    python tools/visualize_cams.py CONFIG --cam-dir DIR --out-dir DIR
                                   [--split NAME] [--num N]
                                   [--cfg-options k=v ...]
"""
import argparse
import os.path as osp

import mmwsss  # noqa: F401  isort:skip
import mmcv
from mmengine.registry import init_default_scope

from mmwsss.inference.cam_io import cam_path, load_cam
from mmwsss.registry import DATASETS
from mmwsss.utils import atomic_path
from mmwsss.utils.tool_utils import (add_cfg_options, ensure_dir,
                                     load_config, select_split)
from mmwsss.visualization import overlay_cams


def main() -> None:
    parser = argparse.ArgumentParser(description='CAM overlays')
    parser.add_argument('config')
    parser.add_argument('--cam-dir', required=True)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--split')
    parser.add_argument('--num', type=int, default=16,
                        help='number of images (0: all)')
    add_cfg_options(parser)
    args = parser.parse_args()

    cfg = load_config(args.config, args.cfg_options)
    select_split(cfg, args.split)
    init_default_scope(cfg.get('default_scope', 'mmwsss'))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    names = dataset.metainfo['classes']
    ensure_dir(args.out_dir)
    count = len(dataset) if args.num <= 0 else min(args.num, len(dataset))
    for i in range(count):
        info = dataset.get_data_info(i)
        img_id = info.get('img_id') or osp.splitext(
            osp.basename(info['img_path']))[0]
        cams, keys = load_cam(cam_path(args.cam_dir, img_id))
        image = mmcv.imread(info['img_path'], channel_order='rgb')
        tile = overlay_cams(image, cams, keys, names)
        target = osp.join(args.out_dir, f'{img_id}.jpg')
        with atomic_path(target) as tmp:
            mmcv.imwrite(mmcv.rgb2bgr(tile), tmp)
    print(f'wrote {count} overlays to {args.out_dir}')


if __name__ == '__main__':
    main()
