"""Turn saliency maps into pseudo-saliency masks (threshold + dense CRF).

    python tools/make_pseudo_saliency.py --sal-dir SAL --out-dir MASKS \\
        [--threshold 0.2] [--crf --img-dir JPEGImages --img-suffix .jpg] \\
        [--crf-gt-prob 0.7] [--workers 4]

For every ``{img_id}.png`` saliency map in ``--sal-dir`` writes
``{img_id}.png``: a grey PNG with 0 (background) and 255 (salient), the
P-NOC recipe (README: C²AM): salient where ``saliency > threshold`` (0.2),
then a 2-label dense CRF (preset ``crf_label``: 10 iterations, gt_prob 0.7).
These masks train the refinement segmentor
(``configs/c2am/saliency_refine_*``). The CRF is CPU bound: ``--workers``
runs it in parallel processes. Outputs are written atomically and existing
ones are skipped, so an interrupted run resumes.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

from mmwsss.apis.image_jobs import (ImageJob, list_ids, load_matching_image,
                                    run_jobs)
from mmwsss.apis.tool_utils import add_crf_options, crf_from_args
from mmwsss.inference.saliency import make_pseudo_saliency
from mmwsss.utils.saliency_io import (SALIENCY_SUFFIX, SaliencyFileError,
                                      load_saliency, saliency_path, save_mask)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='saliency maps -> 0/255 pseudo-saliency masks')
    parser.add_argument('--sal-dir', required=True,
                        help='folder of saliency PNGs (tools/infer_saliency)')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--threshold', type=float, default=0.2,
                        help='salient when saliency > threshold (ref. 0.2)')
    add_crf_options(parser)
    parser.add_argument('--img-dir', help='image folder (needed by --crf)')
    parser.add_argument('--img-suffix', default='.jpg', help='image suffix')
    parser.add_argument('--workers', type=int, default=1,
                        help='worker processes')
    args = parser.parse_args(argv)
    if args.crf and not args.img_dir:
        parser.error('--crf needs --img-dir')
    return args


class PseudoSaliencyJob(ImageJob):
    """Makes the mask of one image id."""

    passthrough = (SaliencyFileError, FileNotFoundError)

    def __init__(self, args: argparse.Namespace) -> None:
        self.sal_dir = args.sal_dir
        self.out_dir = args.out_dir
        self.threshold = args.threshold
        self.crf = crf_from_args(args)
        self.gt_prob = args.crf_gt_prob
        self.img_dir = args.img_dir
        self.img_suffix = args.img_suffix

    def out_path(self, img_id: str) -> str:
        return saliency_path(self.out_dir, img_id)

    def run(self, img_id: str) -> str:
        out = self.out_path(img_id)
        if osp.exists(out):
            return 'skipped'
        sal = load_saliency(saliency_path(self.sal_dir, img_id))
        image = None
        if self.crf is not None:
            image = load_matching_image(
                osp.join(self.img_dir, img_id + self.img_suffix), sal.shape,
                'saliency')
        mask = make_pseudo_saliency(
            sal, self.threshold, image=image, crf=self.crf,
            gt_prob=self.gt_prob)
        save_mask(out, mask)
        return 'written'


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.sal_dir):
        print(f'error: saliency folder not found: {args.sal_dir}',
              file=sys.stderr)
        return 1
    if osp.realpath(args.out_dir) == osp.realpath(args.sal_dir):
        print('error: --out-dir must differ from --sal-dir (same file '
              'names)', file=sys.stderr)
        return 1
    ids = list_ids(args.sal_dir, SALIENCY_SUFFIX)
    if not ids:
        print(f'error: no *{SALIENCY_SUFFIX} files in {args.sal_dir} (run '
              'tools/infer_saliency.py first)', file=sys.stderr)
        return 1
    job = PseudoSaliencyJob(args)
    os.makedirs(args.out_dir, exist_ok=True)
    todo = [i for i in ids if not osp.exists(job.out_path(i))]
    print(f'{len(ids)} saliency maps, {len(ids) - len(todo)} masks already '
          f'done, {len(todo)} to write (threshold {args.threshold}, '
          f"CRF {'preset ' + args.crf_preset if args.crf else 'off'}, "
          f'{args.workers} worker(s))')
    try:
        run_jobs(job, todo, args.workers, 'pseudo-saliency', chunksize=2)
    except (SaliencyFileError, FileNotFoundError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    print(f'done: {len(ids)} masks in {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
