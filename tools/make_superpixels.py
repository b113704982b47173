"""Make ICD's superpixels: one 8-bit PNG of ids per image.

    python tools/make_superpixels.py --out-dir SP_DIR \\
        --config CONFIG [--split train_aug] [--cfg-options k=v ...] \\
        [--workers 4]
    python tools/make_superpixels.py --out-dir SP_DIR \\
        --img-dir JPEGImages [--list ids.txt] [--img-suffix .jpg] \\
        [--workers 4]

Writes ``{out_dir}/{img_id}.png`` (greyscale, ids 0..n-1 with n <= 64,
format :mod:`mmwsss.utils.superpixel_io`) for every image of the config's
split (``--split`` names one of the config's ``data_splits``; without it
the test split), or for the images of ``--img-dir`` (those named in
``--list``: one id per line, its first word; a path is reduced to its file
name without the suffix). Superpixels: Felzenszwalb (``--scale 75 --sigma
0.8 --min-size 75``, the reference's) merged by adjacency down to
``--max-regions 64`` (:mod:`mmwsss.utils.superpixels` gives the merge
criterion). Outputs are written atomically and existing ones are skipped,
so an interrupted run resumes where it stopped. ``LoadSuperpixels(
sp_dir=SP_DIR)`` reads them in a training pipeline.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional, Tuple

from mmwsss.apis.image_jobs import ImageJob, list_ids, run_jobs
from mmwsss.apis.tool_utils import (add_cfg_options, build_split_dataset,
                                    report_error)
from mmwsss.utils.errors import USER_ERRORS
from mmwsss.utils.io import load_rgb, sample_id
from mmwsss.utils.superpixel_io import save_superpixels, superpixel_path
from mmwsss.utils.superpixels import (FELZENSZWALB, MAX_REGIONS,
                                      make_superpixels)

# (img_id, image path)
Item = Tuple[str, str]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='images -> ICD superpixel PNGs (Felzenszwalb + '
        'adjacency merge)')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--config', help='config whose data set lists the images')
    parser.add_argument(
        '--split', help="a name in the config's data_splits (default: the "
        "config's test split)")
    add_cfg_options(parser)
    parser.add_argument('--img-dir', help='image folder (without --config)')
    parser.add_argument(
        '--list', help='file of image ids, one per line (with --img-dir; '
        'default: every image of --img-dir)')
    parser.add_argument('--img-suffix', default='.jpg',
                        help='image suffix (with --img-dir)')
    parser.add_argument(
        '--max-regions', type=int, default=MAX_REGIONS,
        help='at most this many superpixels per image (default: '
        '%(default)s)')
    parser.add_argument('--scale', type=float, default=FELZENSZWALB['scale'],
                        help="Felzenszwalb's k (default: %(default)s)")
    parser.add_argument('--sigma', type=float, default=FELZENSZWALB['sigma'],
                        help='Gaussian pre-smoothing (default: %(default)s)')
    parser.add_argument(
        '--min-size', type=int, default=FELZENSZWALB['min_size'],
        help='smallest Felzenszwalb segment in pixels (default: '
        '%(default)s)')
    parser.add_argument(
        '--workers', type=int, default=1, help='worker processes')
    args = parser.parse_args(argv)
    if bool(args.config) == bool(args.img_dir):
        parser.error('give either --config (with --split) or --img-dir')
    if args.split and not args.config:
        parser.error('--split needs --config')
    if args.list and not args.img_dir:
        parser.error('--list needs --img-dir')
    if not 1 <= args.max_regions <= 255:
        parser.error(f'--max-regions {args.max_regions} is outside 1..255 '
                     '(8-bit ids; the padding id of training is '
                     'max_regions)')
    if args.workers < 1:
        parser.error('--workers must be >= 1')
    return args


class SuperpixelJob(ImageJob):
    """Makes and writes the superpixels of one image."""

    # load_rgb's OSError names the image file already
    passthrough = (FileNotFoundError, OSError)

    def __init__(self, args: argparse.Namespace) -> None:
        self.out_dir = args.out_dir
        self.options = dict(max_regions=args.max_regions, scale=args.scale,
                            sigma=args.sigma, min_size=args.min_size)

    def out_path(self, img_id: str) -> str:
        return superpixel_path(self.out_dir, img_id)

    def run(self, item: Item) -> str:
        img_id, img_path = item
        out = self.out_path(img_id)
        if osp.exists(out):
            return 'skipped'
        if not osp.isfile(img_path):
            raise FileNotFoundError(f'image not found: {img_path}')
        save_superpixels(out, make_superpixels(load_rgb(img_path),
                                               **self.options))
        return 'written'


def items_from_config(args: argparse.Namespace) -> List[Item]:
    """(id, path) of every image of the config's split, background-only
    images included."""
    options = dict(args.cfg_options or {})
    options.setdefault('test_dataloader.dataset.skip_background_only', False)
    _, dataset = build_split_dataset(args.config, options, args.split)
    items = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        items.append((sample_id(info), info['img_path']))
    return items


def items_from_folder(args: argparse.Namespace) -> List[Item]:
    """(id, path) of the images of ``--img-dir`` (those of ``--list``)."""
    if not osp.isdir(args.img_dir):
        raise FileNotFoundError(f'image folder not found: {args.img_dir}')
    if args.list is None:
        ids = list_ids(args.img_dir, args.img_suffix)
    else:
        if not osp.isfile(args.list):
            raise FileNotFoundError(f'id list not found: {args.list}')
        with open(args.list) as f:
            words = [line.split()[0] for line in f if line.strip()]
        ids = [osp.splitext(osp.basename(w))[0] if '/' in w else w
               for w in words]
    return [(i, osp.join(args.img_dir, i + args.img_suffix)) for i in ids]


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        items = (items_from_config(args)
                 if args.config else items_from_folder(args))
    except (KeyError, TypeError, *USER_ERRORS) as err:
        return report_error(err)
    if not items:
        where = args.list or args.img_dir or f'{args.config} {args.split}'
        print(f'error: no images in {where}', file=sys.stderr)
        return 1
    job = SuperpixelJob(args)
    os.makedirs(args.out_dir, exist_ok=True)
    todo = [it for it in items if not osp.exists(job.out_path(it[0]))]
    print(f'{len(items)} images, {len(items) - len(todo)} already done, '
          f'{len(todo)} to write (at most {args.max_regions} superpixels, '
          f'Felzenszwalb scale {args.scale:g}, sigma {args.sigma:g}, '
          f'min size {args.min_size})')
    try:
        run_jobs(job, todo, args.workers, 'superpixels')
    except (OSError, RuntimeError) as err:
        return report_error(err)
    print(f'done: {len(items)} superpixel maps in {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
