"""Refine pseudo-masks with SAM (segment-anything) masks: CSRM's step 3.

    # SAM masks made already ({img_id}.npz, or amg.py's {img_id}/ folders)
    python tools/sam_refine.py --mask-dir MASKS --sam-dir SAM --out-dir OUT \\
        [--min-inside 0.5] [--min-cover 0.85] [--keep-rejected] \\
        [--workers 4]
    # SAM masks generated here (needs `pip install segment-anything`)
    python tools/sam_refine.py --mask-dir MASKS --out-dir OUT \\
        --sam-checkpoint sam_vit_h_4b8939.pth [--sam-model vit_h] \\
        --img-dir JPEGImages [--img-suffix .jpg] [--save-sam-dir SAM] \\
        [--sam-options points_per_side=32 ...] [--device cuda]

For every ``{img_id}.png`` pseudo-mask of ``--mask-dir`` (palette PNG:
class ids, 0 background, 255 unknown, e.g. from
``tools/make_pseudo_masks.py``) writes ``{img_id}.png`` to ``--out-dir``:
the pseudo-mask merged with the image's SAM masks by the rule of
:mod:`mmwsss.inference.sam_merge` (a SAM mask takes a class when more than
half of it lies in the class region or it covers at least 85 % of it;
class pixels under unclaimed SAM masks become background; unknown pixels
never do). The output keeps the input's palette (the VOC colours for a
PNG without one).

SAM masks come from ``--sam-dir`` (format: :mod:`mmwsss.utils.sam_io`),
or are generated with segment-anything's automatic mask generator from a
local checkpoint (its default settings, which CSRM uses, changed with
``--sam-options``); ``--save-sam-dir`` keeps them as ``{img_id}.npz`` for
another merge, and masks already there are reused. Generation runs in
this process on ``--device``; ``--workers`` runs merges of ``--sam-dir``
masks (CPU) in a process pool. Outputs are written atomically and
existing ones are skipped, so an interrupted run resumes.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Any, List, Optional, Tuple

import numpy as np
from PIL import Image

from mmwsss.apis.image_jobs import (ImageJob, list_ids, load_matching_image,
                                    run_jobs)
from mmwsss.apis.tool_utils import CfgOptionsAction, report_error
from mmwsss.inference.sam_masks import (SAM_GENERATOR_DEFAULTS,
                                        SAM_MODEL_TYPES, build_sam_generator,
                                        check_sam_checkpoint,
                                        generate_sam_masks,
                                        import_segment_anything)
from mmwsss.inference.sam_merge import (DEFAULT_MIN_COVER, DEFAULT_MIN_INSIDE,
                                        merge_sam_masks, sam_mask_owners)
from mmwsss.utils.errors import USER_ERRORS, DataError
from mmwsss.utils.io import save_indexed_png
from mmwsss.utils.palette import voc_palette
from mmwsss.utils.sam_io import (SAMFileError, find_sam_masks,
                                 load_sam_masks, sam_path, save_sam_masks)

MASK_SUFFIX = '.png'
# (status, SAM masks, claimed masks, changed pixels, pixels)
Result = Tuple[str, int, int, int, int]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='pseudo-mask PNGs + SAM masks -> refined pseudo-masks')
    parser.add_argument('--mask-dir', required=True,
                        help='pseudo-mask PNGs {img_id}.png')
    parser.add_argument('--out-dir', required=True, help='output folder')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        '--sam-dir', help='SAM masks: {img_id}.npz (bool "masks" N×H×W) or '
        "segment-anything amg.py's {img_id}/ folders of mask PNGs")
    source.add_argument(
        '--sam-checkpoint', help='generate the SAM masks with this '
        'segment-anything checkpoint (e.g. sam_vit_h_4b8939.pth)')
    parser.add_argument('--sam-model', default='vit_h',
                        choices=SAM_MODEL_TYPES,
                        help='SAM model type of --sam-checkpoint (CSRM: '
                        'vit_h)')
    parser.add_argument('--img-dir', help='images (needed by '
                        '--sam-checkpoint)')
    parser.add_argument('--img-suffix', default='.jpg', help='image suffix')
    parser.add_argument(
        '--sam-options', nargs='+', action=CfgOptionsAction,
        metavar='KEY=VALUE', default={},
        help='automatic mask generator settings over its defaults (those '
        'CSRM uses): ' + ', '.join(f'{k}={v:g}' if isinstance(v, float)
                                   else f'{k}={v}'
                                   for k, v in SAM_GENERATOR_DEFAULTS.items()))
    parser.add_argument(
        '--save-sam-dir', help='with --sam-checkpoint: keep the generated '
        'masks as {img_id}.npz here (reused when present), for --sam-dir')
    parser.add_argument('--device', help='SAM device (default: cuda if '
                        'available)')
    parser.add_argument(
        '--min-inside', type=float, default=DEFAULT_MIN_INSIDE,
        help='a SAM mask claims a class when more than this fraction of it '
        'lies in the class region (reference 0.5)')
    parser.add_argument(
        '--min-cover', type=float, default=DEFAULT_MIN_COVER,
        help='... or when it covers at least this fraction of the class '
        'region (reference 0.85)')
    parser.add_argument(
        '--keep-rejected', action='store_true',
        help='keep the class of pixels covered only by unclaimed SAM masks '
        '(the reference makes them background)')
    parser.add_argument('--workers', type=int, default=1,
                        help='worker processes (with --sam-dir)')
    args = parser.parse_args(argv)
    if not 0.0 <= args.min_inside < 1.0:
        parser.error(f'--min-inside {args.min_inside} is outside [0, 1) '
                     '(reference 0.5)')
    if not 0.0 < args.min_cover <= 1.0:
        parser.error(f'--min-cover {args.min_cover} is outside (0, 1] '
                     '(reference 0.85)')
    if args.workers < 1:
        parser.error('--workers must be at least 1')
    if args.sam_checkpoint:
        if not args.img_dir:
            parser.error('--sam-checkpoint needs --img-dir (SAM runs on the '
                         'images)')
        if args.workers > 1:
            parser.error('--workers applies to --sam-dir: SAM generation '
                         'runs in this process on --device')
        unknown = sorted(set(args.sam_options) - set(SAM_GENERATOR_DEFAULTS))
        if unknown:
            parser.error(f'unknown --sam-options {unknown}; known: '
                         f'{", ".join(SAM_GENERATOR_DEFAULTS)}')
    else:
        for name in ('sam_options', 'save_sam_dir', 'device'):
            if getattr(args, name):
                parser.error(f'--{name.replace("_", "-")} needs '
                             '--sam-checkpoint')
    if osp.realpath(args.out_dir) == osp.realpath(args.mask_dir):
        parser.error('--out-dir must differ from --mask-dir: existing '
                     'outputs are skipped, and the inputs must stay')
    return args


def read_pseudo_mask(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """(H×W uint8 labels, 256×3 palette) of a pseudo-mask PNG: its own
    palette when it has one, the VOC colours otherwise.

    Raises:
        FileNotFoundError: no such file.
        DataError: unreadable, or not a one-channel label image.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'pseudo-mask not found: {path}')
    try:
        with Image.open(path) as img:
            mode = img.mode
            raw_palette = img.getpalette() if mode == 'P' else None
            label = np.asarray(img)
    except (OSError, ValueError, SyntaxError) as err:
        raise DataError(f'{path}: unreadable pseudo-mask ({err}); make it '
                        'again (tools/make_pseudo_masks.py)') from err
    if label.ndim != 2 or mode not in ('P', 'L'):
        raise DataError(f'{path}: a pseudo-mask must be an index (palette) '
                        f'or grey PNG of class ids, got mode {mode} shape '
                        f'{label.shape}')
    palette = voc_palette()
    if raw_palette:
        colours = np.asarray(raw_palette, np.uint8).reshape(-1, 3)[:256]
        palette[:len(colours)] = colours
    return label.astype(np.uint8), palette


class SAMRefineJob(ImageJob):
    """Merges the SAM masks of one image id into its pseudo-mask."""

    passthrough = (DataError, FileNotFoundError, ImportError)

    def __init__(self, args: argparse.Namespace) -> None:
        self.mask_dir = args.mask_dir
        self.out_dir = args.out_dir
        self.sam_dir = args.sam_dir
        self.checkpoint = args.sam_checkpoint
        self.model_type = args.sam_model
        self.sam_options = dict(args.sam_options or {})
        self.save_sam_dir = args.save_sam_dir
        self.device = args.device
        self.img_dir = args.img_dir
        self.img_suffix = args.img_suffix
        self.min_inside = args.min_inside
        self.min_cover = args.min_cover
        self.keep_rejected = args.keep_rejected
        self._generator: Any = None  # built on first use, in this process

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state['_generator'] = None  # never ship a model to the workers
        return state

    def out_path(self, img_id: str) -> str:
        return osp.join(self.out_dir, img_id + MASK_SUFFIX)

    def image_path(self, img_id: str) -> str:
        return osp.join(self.img_dir, img_id + self.img_suffix)

    def sam_masks(self, img_id: str,
                  size: Tuple[int, int]) -> Tuple[np.ndarray, str]:
        """(N×H×W masks, where they come from): from ``--sam-dir``, from
        ``--save-sam-dir`` when made before, else generated (and saved
        there)."""
        if self.sam_dir is not None:
            path = find_sam_masks(self.sam_dir, img_id)
            if path is None:
                raise FileNotFoundError(
                    f'SAM masks not found: {sam_path(self.sam_dir, img_id)} '
                    f'(nor the folder {osp.join(self.sam_dir, img_id)})')
            return load_sam_masks(path, size), path
        saved = (sam_path(self.save_sam_dir, img_id)
                 if self.save_sam_dir else None)
        if saved and osp.isfile(saved):
            return load_sam_masks(saved), saved
        if self._generator is None:
            self._generator = build_sam_generator(
                self.checkpoint, self.model_type, self.device,
                **self.sam_options)
        image = load_matching_image(
            self.image_path(img_id), size, 'pseudo-mask',
            fix='check --img-dir and --img-suffix')
        masks = generate_sam_masks(self._generator, image)
        if saved:
            save_sam_masks(saved, masks)
        return masks, f'the SAM masks of {self.image_path(img_id)}'

    def run(self, img_id: str) -> Result:
        out = self.out_path(img_id)
        if osp.exists(out):
            return ('skipped', 0, 0, 0, 0)
        mask_path = osp.join(self.mask_dir, img_id + MASK_SUFFIX)
        label, palette = read_pseudo_mask(mask_path)
        masks, where = self.sam_masks(img_id, label.shape)
        if masks.shape[1:] != label.shape:
            raise SAMFileError(
                f'{where}: SAM mask size {masks.shape[1:]} != pseudo-mask '
                f'size {label.shape} of {mask_path}; were both made from '
                'the same images?')
        owners = sam_mask_owners(label, masks, self.min_inside,
                                 self.min_cover)
        merged = merge_sam_masks(label, masks, self.min_inside,
                                 self.min_cover, self.keep_rejected, owners)
        save_indexed_png(out, merged, palette)
        return ('written', len(masks), int(np.count_nonzero(owners)),
                int(np.count_nonzero(merged != label)), int(label.size))


def check_sources(args: argparse.Namespace, job: SAMRefineJob,
                  todo: List[str]) -> None:
    """Fail before any work when SAM masks, images, the checkpoint or the
    segment-anything package are missing.

    Raises:
        FileNotFoundError: names the missing files (the first three).
        ImportError: segment-anything is not installed.
    """
    if args.sam_dir is not None:
        if not osp.isdir(args.sam_dir):
            raise FileNotFoundError(f'SAM folder not found: {args.sam_dir}')
        missing = [
            sam_path(args.sam_dir, i) for i in todo
            if find_sam_masks(args.sam_dir, i) is None
        ]
        what = 'SAM mask files'
        fix = ('make them with --sam-checkpoint CHECKPOINT --img-dir DIR '
               '--save-sam-dir DIR, or with segment-anything amg.py')
    else:
        check_sam_checkpoint(args.sam_checkpoint, args.sam_model)
        import_segment_anything()
        saved = args.save_sam_dir
        missing = [
            job.image_path(i) for i in todo
            if not (saved and osp.isfile(sam_path(saved, i)))
            and not osp.isfile(job.image_path(i))
        ]
        what = 'images'
        fix = 'check --img-dir and --img-suffix'
    if missing:
        shown = ', '.join(missing[:3]) + (' ...' if len(missing) > 3 else '')
        raise FileNotFoundError(f'{len(missing)} of {len(todo)} {what} '
                                f'missing ({shown}); {fix}')


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.mask_dir):
        print(f'error: pseudo-mask folder not found: {args.mask_dir}',
              file=sys.stderr)
        return 1
    ids = list_ids(args.mask_dir, MASK_SUFFIX)
    if not ids:
        print(f'error: no *{MASK_SUFFIX} pseudo-masks in {args.mask_dir} '
              '(run tools/make_pseudo_masks.py first)', file=sys.stderr)
        return 1
    job = SAMRefineJob(args)
    todo = [i for i in ids if not osp.exists(job.out_path(i))]
    try:
        check_sources(args, job, todo)
    except (ImportError, ValueError, *USER_ERRORS) as err:
        return report_error(err)
    os.makedirs(args.out_dir, exist_ok=True)
    source = (f'SAM masks of {args.sam_dir}' if args.sam_dir else
              f'SAM {args.sam_model} masks of {args.sam_checkpoint}')
    print(f'{len(ids)} pseudo-masks, {len(ids) - len(todo)} already done, '
          f'{len(todo)} to merge with the {source} (claim: inside > '
          f'{args.min_inside:g} or cover >= {args.min_cover:g}; unclaimed '
          f"masks: {'keep' if args.keep_rejected else 'trim to background'})")
    try:
        results = run_jobs(job, todo, args.workers, 'SAM refinement')
    except (ImportError, RuntimeError, ValueError, *USER_ERRORS) as err:
        return report_error(err)
    written = [r for r in results if r[0] == 'written']
    masks = sum(r[1] for r in written)
    claimed = sum(r[2] for r in written)
    changed = sum(r[3] for r in written)
    pixels = sum(r[4] for r in written) or 1
    print(f'done: {len(ids)} masks in {args.out_dir}; this run merged '
          f'{len(written)}: {claimed} of {masks} SAM masks claimed, '
          f'{100.0 * changed / pixels:.1f} % of pixels changed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
