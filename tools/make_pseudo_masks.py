"""Turn stored CAMs into pseudo-mask PNGs (threshold, optional dense CRF).

    python tools/make_pseudo_masks.py --cam-dir CAMS --out-dir MASKS \\
        --threshold 0.3 [--crf --img-dir JPEGImages --img-suffix .jpg] \\
        [--config CONFIG [--split NAME] [--cfg-options k=v ...]] \\
        [--workers 4]

Writes ``{img_id}.png`` (palette PNG, class ids, 255 = ignore) for every
``{img_id}.npz`` in ``--cam-dir``, or, with ``--config`` and ``--split``,
for every image of that split: background-only images (CAM inference
skips them, as training does) get an all-background mask, so a segmentor
trained on the split's list finds a mask for every image; any other image
without a CAM file is an error. Outputs are written atomically and
existing ones are skipped, so an interrupted run resumes where it stopped.
The palette comes from the dataset metainfo of ``--config`` when given
(whose classes the CAM keys must then belong to), the Pascal VOC colour
map otherwise.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from mmwsss.apis import make_pseudo_mask
from mmwsss.apis.image_jobs import (ImageJob, list_ids, load_matching_image,
                                    run_jobs)
from mmwsss.apis.tool_utils import (add_cfg_options, add_crf_options,
                                    build_split_dataset, crf_from_args,
                                    load_config, missing_files, report_error)
from mmwsss.utils.cam_io import CAM_SUFFIX, CAMFileError, cam_path, read_cam
from mmwsss.utils.errors import USER_ERRORS
from mmwsss.utils.io import sample_id, save_indexed_png
from mmwsss.utils.palette import palette_over_voc, voc_palette

# (img_id, image path of a background-only image without CAMs, else None)
Item = Tuple[str, Optional[str]]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='CAMs -> pseudo-mask palette PNGs')
    parser.add_argument('--cam-dir', required=True, help='folder of .npz CAMs')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--threshold', type=float, required=True,
        help='constant background score in [0, 1] (P-NOC uses 0.3 for '
        'pseudo-masks)')
    add_crf_options(parser)
    parser.add_argument('--img-dir', help='image folder (needed by --crf)')
    parser.add_argument('--img-suffix', default='.jpg', help='image suffix')
    parser.add_argument(
        '--config', help='config whose dataset metainfo gives the classes '
        'and the palette')
    parser.add_argument(
        '--split', help="a name in the config's data_splits: write a mask "
        'for every image it lists')
    add_cfg_options(parser)
    parser.add_argument(
        '--workers', type=int, default=1, help='worker processes')
    args = parser.parse_args(argv)
    if not 0.0 <= args.threshold <= 1.0:
        parser.error(f'--threshold {args.threshold} is outside [0, 1]: it is '
                     'the background score against CAMs normalised to '
                     '[0, 1] (P-NOC: 0.3)')
    if args.crf and not args.img_dir:
        parser.error('--crf needs --img-dir')
    if args.split and not args.config:
        parser.error('--split needs --config')
    return args


def metainfo_from_config(path: str, cfg_options: Optional[dict] = None
                         ) -> Tuple[Optional[Sequence[str]], np.ndarray]:
    """(classes, 256×3 palette) of the config's dataset metainfo: its
    palette over the VOC colour map (so 255 = ignore keeps its VOC colour);
    classes None when the config declares none."""
    from mmengine.fileio import list_from_file
    from mmengine.registry import init_default_scope

    from mmwsss.registry import DATASETS

    cfg = load_config(path, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmwsss'))
    for key in ('train_dataloader', 'test_dataloader', 'val_dataloader'):
        ds_cfg = (cfg.get(key) or {}).get('dataset')
        if not ds_cfg:
            continue
        info = dict(ds_cfg.get('metainfo') or {})
        if 'type' in ds_cfg:
            ds_type = ds_cfg['type']
            ds_cls = (
                DATASETS.get(ds_type) if isinstance(ds_type, str) else ds_type)
            for name, value in getattr(ds_cls, 'METAINFO', {}).items():
                info.setdefault(name, value)
        classes = info.get('classes')
        if isinstance(classes, str):  # a class-name file, as mmengine reads
            classes = list_from_file(classes)
        if classes or info.get('palette'):
            return classes, palette_over_voc(info.get('palette'))
    print(f'warning: no dataset classes in {path}; using the VOC colours',
          file=sys.stderr)
    return None, voc_palette()


class PseudoMaskJob(ImageJob):
    """Makes the mask of one item: from its CAM file, or all background
    for a background-only image without one."""

    passthrough = (CAMFileError, FileNotFoundError)

    def __init__(self, args: argparse.Namespace, palette: np.ndarray,
                 classes: Optional[Sequence[str]] = None) -> None:
        self.cam_dir = args.cam_dir
        self.out_dir = args.out_dir
        self.threshold = args.threshold
        self.crf = crf_from_args(args)
        self.gt_prob = args.crf_gt_prob
        self.img_dir = args.img_dir
        self.img_suffix = args.img_suffix
        self.palette = palette
        self.config = args.config
        self.num_classes = len(classes) if classes else None

    def out_path(self, img_id: str) -> str:
        return osp.join(self.out_dir, f'{img_id}.png')

    def check_keys(self, path: str, keys: np.ndarray) -> None:
        """Refuse class ids the config does not have: they would be
        written into the PNG and fail the segmentor's loss later."""
        if self.num_classes is None or not keys.size:
            return
        bad = keys[keys >= self.num_classes]
        if bad.size:
            raise CAMFileError(
                f'{path}: CAM class id {int(bad[0])} is not a class of '
                f'{self.config} (ids 1..{self.num_classes - 1}); were the '
                'CAMs made with another config? Give that config')

    def run(self, item: Item) -> str:
        img_id, background_image = item
        out = self.out_path(img_id)
        if osp.exists(out):
            return 'skipped'
        if background_image is not None:
            with Image.open(background_image) as img:
                width, height = img.size
            save_indexed_png(out, np.zeros((height, width), np.uint8),
                             self.palette)
            return 'background'
        path = cam_path(self.cam_dir, img_id)
        cams = read_cam(path)
        self.check_keys(path, cams.keys)
        image = None
        if self.crf is not None:
            image = load_matching_image(
                osp.join(self.img_dir, img_id + self.img_suffix),
                cams.cams.shape[1:], 'CAM')
        mask = make_pseudo_mask(
            cams, self.threshold, image=image, crf=self.crf,
            gt_prob=self.gt_prob, channel_order='rgb')
        save_indexed_png(out, mask, self.palette)
        return 'written'


def items_from_split(args: argparse.Namespace) -> List[Item]:
    """Every image of ``--split``; background-only ones without a CAM file
    carry their image path (CAM inference skips them).

    Raises:
        FileNotFoundError: images with a foreground label lack CAM files.
    """
    options = dict(args.cfg_options or {})
    # list the background-only images too: the segmentor trains on them
    options.setdefault('test_dataloader.dataset.skip_background_only', False)
    _, dataset = build_split_dataset(args.config, options, args.split)
    items, need_cams = [], []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        img_id = sample_id(info)
        path = cam_path(args.cam_dir, img_id)
        background = 'gt_label' in info and not np.any(info['gt_label'])
        if background and not osp.exists(path):
            items.append((img_id, info['img_path']))
        else:
            items.append((img_id, None))
            need_cams.append(path)
    missing = missing_files(need_cams, 'CAM files')
    if missing:
        raise FileNotFoundError(
            f'{missing} for images of split "{args.split}" with a foreground '
            'label; run tools/infer_cams.py for this split first')
    return items


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.cam_dir):
        print(f'error: CAM folder not found: {args.cam_dir}', file=sys.stderr)
        return 1
    try:
        classes, palette = (metainfo_from_config(args.config,
                                                 args.cfg_options)
                            if args.config else (None, voc_palette()))
        if args.split:
            items = items_from_split(args)
        else:
            items = [(i, None) for i in list_ids(args.cam_dir, CAM_SUFFIX)]
    except (KeyError, TypeError, *USER_ERRORS) as err:
        return report_error(err)
    if not items:
        print(f'error: no *{CAM_SUFFIX} files in {args.cam_dir} (run '
              'tools/infer_cams.py first)', file=sys.stderr)
        return 1
    job = PseudoMaskJob(args, palette, classes)
    os.makedirs(args.out_dir, exist_ok=True)
    todo = [it for it in items if not osp.exists(job.out_path(it[0]))]
    background = sum(it[1] is not None for it in items)
    print(f'{len(items)} images, {len(items) - len(todo)} masks already '
          f'done, {len(todo)} to write (threshold {args.threshold}, '
          f"CRF {'preset ' + args.crf_preset if args.crf else 'off'})"
          + (f'; {background} background-only images without CAMs get an '
             'all-background mask' if background else ''))
    try:
        run_jobs(job, todo, args.workers, 'pseudo-masks')
    except (CAMFileError, FileNotFoundError, RuntimeError) as err:
        return report_error(err)
    print(f'done: {len(items)} masks in {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
