"""Turn stored CAMs into pseudo-mask PNGs (threshold, optional dense CRF).

    python tools/make_pseudo_masks.py --cam-dir CAMS --out-dir MASKS \\
        --threshold 0.3 [--crf --img-dir JPEGImages --img-suffix .jpg] \\
        [--config CONFIG] [--workers 4]

Writes ``{img_id}.png`` (palette PNG, class ids, 255 = ignore) for every
``{img_id}.npz`` in ``--cam-dir``. Outputs are written atomically and
existing ones are skipped, so an interrupted run resumes where it stopped.
The palette comes from the dataset metainfo of ``--config`` when given, the
Pascal VOC colour map otherwise.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

import numpy as np

from mmwsss.inference.cam_io import CAM_SUFFIX, CAMFileError, cam_path
from mmwsss.inference.cam_io import load_cam
from mmwsss.inference.pseudo_masks import (make_pseudo_mask,
                                           palette_over_voc, voc_palette)
from mmwsss.utils.image_jobs import (ImageJob, list_ids, load_matching_image,
                                     run_jobs)
from mmwsss.utils.io import save_indexed_png


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='CAMs -> pseudo-mask palette PNGs')
    parser.add_argument('--cam-dir', required=True, help='folder of .npz CAMs')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--threshold', type=float, required=True,
        help='constant background score (P-NOC uses 0.3 for pseudo-masks)')
    parser.add_argument(
        '--crf', action='store_true', help='refine with a dense CRF')
    parser.add_argument(
        '--crf-preset', default='crf_label',
        help='DenseCRF preset (crf_label, crf_softmax, deeplab_v2)')
    parser.add_argument(
        '--crf-gt-prob', type=float, default=0.7,
        help='CRF label confidence')
    parser.add_argument(
        '--crf-iterations', type=int,
        help='mean-field iterations (default: the preset\'s; the P-NOC '
        'random-walk pseudo-masks use 1)')
    parser.add_argument('--img-dir', help='image folder (needed by --crf)')
    parser.add_argument('--img-suffix', default='.jpg', help='image suffix')
    parser.add_argument(
        '--config', help='config whose dataset metainfo gives the palette')
    parser.add_argument(
        '--workers', type=int, default=1, help='worker processes')
    args = parser.parse_args(argv)
    if args.crf and not args.img_dir:
        parser.error('--crf needs --img-dir')
    return args


def palette_from_config(path: str) -> np.ndarray:
    """256×3 palette: the config dataset's metainfo palette over the VOC
    colour map (so 255 = ignore keeps its VOC colour)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmwsss.registry import DATASETS

    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmwsss'))
    for key in ('train_dataloader', 'test_dataloader', 'val_dataloader'):
        ds_cfg = (cfg.get(key) or {}).get('dataset')
        if not ds_cfg:
            continue
        colours = (ds_cfg.get('metainfo') or {}).get('palette')
        if colours is None and 'type' in ds_cfg:
            ds_type = ds_cfg['type']
            ds_cls = (
                DATASETS.get(ds_type) if isinstance(ds_type, str) else ds_type)
            colours = getattr(ds_cls, 'METAINFO', {}).get('palette')
        if colours:
            return palette_over_voc(colours)
    print(f'warning: no dataset palette in {path}; using the VOC colours',
          file=sys.stderr)
    return voc_palette()


class PseudoMaskJob(ImageJob):
    """Makes the mask of one image id."""

    passthrough = (CAMFileError, FileNotFoundError)

    def __init__(self, args: argparse.Namespace, palette: np.ndarray) -> None:
        self.cam_dir = args.cam_dir
        self.out_dir = args.out_dir
        self.threshold = args.threshold
        self.crf = None
        if args.crf:
            self.crf = dict(preset=args.crf_preset)
            if args.crf_iterations is not None:
                self.crf['iterations'] = args.crf_iterations
        self.gt_prob = args.crf_gt_prob
        self.img_dir = args.img_dir
        self.img_suffix = args.img_suffix
        self.palette = palette

    def out_path(self, img_id: str) -> str:
        return osp.join(self.out_dir, f'{img_id}.png')

    def run(self, img_id: str) -> str:
        out = self.out_path(img_id)
        if osp.exists(out):
            return 'skipped'
        cams, keys = load_cam(cam_path(self.cam_dir, img_id))
        image = None
        if self.crf is not None:
            image = load_matching_image(
                osp.join(self.img_dir, img_id + self.img_suffix),
                cams.shape[1:], 'CAM')
        mask = make_pseudo_mask(
            cams, keys, self.threshold, image=image, crf=self.crf,
            gt_prob=self.gt_prob)
        save_indexed_png(out, mask, self.palette)
        return 'written'


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.cam_dir):
        print(f'error: CAM folder not found: {args.cam_dir}', file=sys.stderr)
        return 1
    ids = list_ids(args.cam_dir, CAM_SUFFIX)
    if not ids:
        print(f'error: no *{CAM_SUFFIX} files in {args.cam_dir} (run '
              'tools/infer_cams.py first)', file=sys.stderr)
        return 1
    palette = (
        palette_from_config(args.config) if args.config else voc_palette())
    job = PseudoMaskJob(args, palette)
    os.makedirs(args.out_dir, exist_ok=True)
    todo = [i for i in ids if not osp.exists(job.out_path(i))]
    print(f'{len(ids)} CAM files, {len(ids) - len(todo)} masks already '
          f'done, {len(todo)} to write (threshold {args.threshold}, '
          f"CRF {'preset ' + args.crf_preset if args.crf else 'off'})")
    try:
        run_jobs(job, todo, args.workers, 'pseudo-masks')
    except (CAMFileError, FileNotFoundError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'done: {len(ids)} masks in {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
