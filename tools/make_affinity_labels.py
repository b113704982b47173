"""Turn stored CAMs (and saliency maps) into AffinityNet training labels.

    python tools/make_affinity_labels.py --cam-dir CAMS --out-dir LABELS \\
        (--config CONFIG [--split train_aug] |
         --img-dir DIR [--img-suffix .jpg]) \\
        [--sal-dir SALIENCY] [--fg-threshold 0.40] [--bg-threshold 0.10] \\
        [--no-crf | --crf-preset crf_label --crf-iterations 10 \\
         --crf-gt-prob 0.7 --crf-backend pydensecrf] [--workers N] \\
        [--cfg-options k=v ...]

Writes ``{img_id}.png`` (palette PNG: class ids, 0 = background, 255 =
ignore) per image (README: random walk; recipe in
:mod:`mmwsss.inference.affinity_labels`). With ``--sal-dir`` (grey PNGs
``{img_id}.png``, 0..255, e.g. PoolNet's) the P-NOC method is used, without
it the IRN baseline. Images: the split of a config's ``test_dataloader``
(every image of it needs a CAM file), or every CAM file of ``--cam-dir`` with
its image in ``--img-dir``. Outputs are written atomically and existing ones
are skipped, so an interrupted run resumes; ``--workers`` runs the (CPU
bound) CRFs in a process pool. The last line printed is a JSON summary.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmwsss.apis.image_jobs import (ImageJob, list_ids, load_matching_image,
                                    run_jobs)
from mmwsss.apis.tool_utils import (add_cfg_options, add_crf_options,
                                    build_split_dataset, crf_from_args,
                                    missing_files)
from mmwsss.inference.affinity_labels import (DEFAULT_BG_THRESHOLD,
                                              DEFAULT_FG_THRESHOLD,
                                              make_affinity_label)
from mmwsss.inference.pseudo_masks import IGNORE_INDEX
from mmwsss.utils.cam_io import CAM_SUFFIX, CAMFileError, cam_path, load_cam
from mmwsss.utils.io import sample_id, save_indexed_png
from mmwsss.utils.palette import palette_over_voc, voc_palette
from mmwsss.utils.saliency_io import load_saliency

# (img_id, image file)
Item = Tuple[str, str]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='CAMs (+ saliency) -> affinity-label PNGs')
    parser.add_argument('--cam-dir', required=True, help='folder of .npz CAMs')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--sal-dir', help='saliency PNGs {img_id}.png (grey 0..255); '
        'omit for the IRN baseline without saliency')
    parser.add_argument(
        '--config', help="config whose test_dataloader lists the images "
        '(and gives the palette)')
    parser.add_argument(
        '--split', help="a name in the config's data_splits (default: the "
        'test_dataloader as configured)')
    add_cfg_options(parser)
    parser.add_argument(
        '--img-dir', help='image folder (instead of --config): every CAM '
        'file of --cam-dir is processed')
    parser.add_argument('--img-suffix', default='.jpg', help='image suffix')
    parser.add_argument(
        '--fg-threshold', type=float, default=DEFAULT_FG_THRESHOLD,
        help='background score of the confident-foreground CAM map '
        '(reference HEAD 0.40; paper era 0.30)')
    parser.add_argument(
        '--bg-threshold', type=float, default=DEFAULT_BG_THRESHOLD,
        help='saliency threshold (with --sal-dir) or background score of '
        'the confident-background CAM map (without)')
    add_crf_options(
        parser, reference='--crf on: the reference always runs the CRF '
        'passes of the affinity labels (--no-crf skips them)', crf=True)
    parser.add_argument(
        '--workers', type=int, default=1, help='worker processes')
    args = parser.parse_args(argv)
    if bool(args.config) == bool(args.img_dir):
        parser.error('give exactly one of --config and --img-dir')
    if args.split and not args.config:
        parser.error('--split needs --config')
    return args


class AffinityLabelJob(ImageJob):
    """Makes the label of one (img_id, image path) item."""

    passthrough = (CAMFileError, FileNotFoundError)

    def __init__(self, args: argparse.Namespace, palette: np.ndarray) -> None:
        self.cam_dir = args.cam_dir
        self.sal_dir = args.sal_dir
        self.out_dir = args.out_dir
        self.fg_threshold = args.fg_threshold
        self.bg_threshold = args.bg_threshold
        self.crf = crf_from_args(args)
        self.gt_prob = args.crf_gt_prob
        self.palette = palette

    def out_path(self, img_id: str) -> str:
        return osp.join(self.out_dir, f'{img_id}.png')

    def run(self, item: Item) -> Dict[str, int]:
        img_id, img_path = item
        out = self.out_path(img_id)
        if osp.exists(out):
            return dict(skipped=1)
        cams, keys = load_cam(cam_path(self.cam_dir, img_id))
        image = load_matching_image(
            img_path, cams.shape[1:], 'CAM',
            fix='check --img-dir/--img-suffix or the config data_root')
        saliency = None
        if self.sal_dir:
            sal_path = osp.join(self.sal_dir, f'{img_id}.png')
            saliency = load_saliency(sal_path)
            if saliency.shape != cams.shape[1:]:
                raise ValueError(f'{sal_path}: saliency size '
                                 f'{saliency.shape} != image size '
                                 f'{cams.shape[1:]}')
        label = make_affinity_label(
            cams, keys, image, saliency, self.fg_threshold,
            self.bg_threshold, self.crf, self.gt_prob)
        save_indexed_png(out, label, self.palette)
        ignore = int((label == IGNORE_INDEX).sum())
        background = int((label == 0).sum())
        return dict(
            written=1,
            no_class=int(len(keys) == 0),
            px_background=background,
            px_ignore=ignore,
            px_foreground=int(label.size) - background - ignore)


def items_from_config(args: argparse.Namespace
                      ) -> Tuple[List[Item], np.ndarray]:
    """(img_id, image path) of the config split, and its palette."""
    _, dataset = build_split_dataset(args.config, args.cfg_options,
                                     args.split)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    items = [(sample_id(info), info['img_path']) for info in infos]
    return items, palette_over_voc(dataset.metainfo.get('palette'))


def items_from_dirs(args: argparse.Namespace) -> List[Item]:
    """(img_id, image path) of every CAM file in ``--cam-dir``."""
    return [(i, osp.join(args.img_dir, i + args.img_suffix))
            for i in list_ids(args.cam_dir, CAM_SUFFIX)]


def missing_inputs(items: List[Item], args: argparse.Namespace) -> List[str]:
    """Error lines for the inputs of the pending items that do not exist."""
    errors = []
    checks = [('CAM files', lambda it: cam_path(args.cam_dir, it[0]),
               'run tools/infer_cams.py for this split first'),
              ('images', lambda it: it[1],
               'check --img-dir/--img-suffix or the config data_root')]
    if args.sal_dir:
        checks.append(('saliency maps',
                       lambda it: osp.join(args.sal_dir, f'{it[0]}.png'),
                       'check --sal-dir (files {img_id}.png)'))
    for what, path_of, fix in checks:
        line = missing_files([path_of(it) for it in items], what)
        if line:
            errors.append(f'{line}; {fix}')
    return errors


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.cam_dir):
        print(f'error: CAM folder not found: {args.cam_dir}', file=sys.stderr)
        return 1
    if args.sal_dir and not osp.isdir(args.sal_dir):
        print(f'error: saliency folder not found: {args.sal_dir}',
              file=sys.stderr)
        return 1
    try:
        if args.config:
            items, palette = items_from_config(args)
        else:
            items, palette = items_from_dirs(args), voc_palette()
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    if not items:
        print(f'error: no images: no *{CAM_SUFFIX} files in {args.cam_dir}',
              file=sys.stderr)
        return 1
    job = AffinityLabelJob(args, palette)
    todo = [it for it in items if not osp.exists(job.out_path(it[0]))]
    errors = missing_inputs(todo, args)
    if errors:
        for line in errors:
            print(f'error: {line}', file=sys.stderr)
        return 1
    os.makedirs(args.out_dir, exist_ok=True)
    recipe = 'saliency' if args.sal_dir else 'no saliency'
    crf = 'CRF off' if job.crf is None else (
        f'CRF {args.crf_preset} gt_prob={args.crf_gt_prob}')
    print(f'{len(items)} images, {len(items) - len(todo)} labels already '
          f'done, {len(todo)} to write ({recipe}, fg {args.fg_threshold:.2f}'
          f', bg {args.bg_threshold:.2f}, {crf})')
    totals: Dict[str, int] = {}
    try:
        results = run_jobs(job, todo, args.workers, 'affinity labels')
    except (CAMFileError, FileNotFoundError, RuntimeError, OSError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    for counts in results:
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    pixels = sum(totals.get(f'px_{k}', 0)
                 for k in ('foreground', 'background', 'ignore'))
    summary = dict(
        images=len(items),
        written=totals.get('written', 0),
        skipped=len(items) - len(todo),
        no_class=totals.get('no_class', 0),
        out_dir=args.out_dir)
    for key in ('foreground', 'background', 'ignore'):
        summary[f'{key}_fraction'] = round(
            totals.get(f'px_{key}', 0) / pixels, 4) if pixels else 0.0
    if summary['no_class']:
        print(f"{summary['no_class']} images without any CAM class got an "
              'all-background label (affinity training skips them)')
    print(json.dumps(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
