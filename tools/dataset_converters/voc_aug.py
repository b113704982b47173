"""Build Pascal VOC 2012's ``SegmentationClassAug`` masks and the
``train_aug`` list from the SBD ("aug") annotations.

    python tools/dataset_converters/voc_aug.py VOC_ROOT SBD_ROOT [--nproc 8]

``VOC_ROOT`` is ``VOCdevkit/VOC2012`` (or ``VOCdevkit``): it needs
``SegmentationClass/*.png`` and ``ImageSets/Segmentation/{train,val}.txt``.
``SBD_ROOT`` is the extracted ``benchmark_RELEASE`` (or its ``dataset``
folder): it needs ``cls/*.mat`` and ``{train,val}.txt``.

Writes into ``VOC_ROOT``:

- ``SegmentationClassAug/{id}.png``: palette PNGs (VOC colours, class ids
  0..20, 255 = ignore), one per SBD ``.mat`` (``GTcls.Segmentation``) and
  one per VOC 2012 ``SegmentationClass`` PNG; where both exist the VOC
  mask wins (it has the 255 boundary band; SBD's masks do not);
- ``ImageSets/Segmentation/train_aug.txt``: (SBD train + SBD val + VOC
  train) minus VOC val, sorted and unique (10,582 ids for the official
  releases).

Masks are written atomically and existing ones are skipped, so an
interrupted run resumes; the list is rewritten every time.
"""
import argparse
import glob
import os
import os.path as osp
import sys
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from mmwsss.apis.image_jobs import ImageJob, run_jobs
from mmwsss.utils.errors import DataError
from mmwsss.utils.io import atomic_write_bytes, load_label, save_indexed_png
from mmwsss.utils.palette import voc_palette

NUM_CLASSES = 21  # background + 20
IGNORE_INDEX = 255
LIST_DIR = osp.join('ImageSets', 'Segmentation')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='SBD .mat + VOC 2012 masks -> SegmentationClassAug '
        'palette PNGs and ImageSets/Segmentation/train_aug.txt')
    parser.add_argument('voc_root', help='VOCdevkit/VOC2012 (or VOCdevkit)')
    parser.add_argument(
        'sbd_root', help='SBD benchmark_RELEASE (or its dataset folder)')
    parser.add_argument(
        '--out-dir',
        help='mask folder (default: VOC_ROOT/SegmentationClassAug)')
    parser.add_argument(
        '--nproc', type=int, default=1, help='worker processes (default 1)')
    return parser.parse_args(argv)


def find_voc_root(path: str) -> str:
    """The VOC 2012 folder of ``path`` (itself, or ``path/VOC2012``)."""
    for root in (path, osp.join(path, 'VOC2012')):
        if osp.isdir(osp.join(root, 'SegmentationClass')) and \
                osp.isdir(osp.join(root, LIST_DIR)):
            return root
    raise DataError(
        f'{path}: no SegmentationClass/ and {LIST_DIR}/ here or in '
        f'{osp.join(path, "VOC2012")}; pass VOCdevkit/VOC2012 of the '
        'VOC 2012 trainval release')


def find_sbd_root(path: str) -> str:
    """The SBD folder holding ``cls/`` (``path/dataset`` or ``path``)."""
    for root in (osp.join(path, 'dataset'), path):
        if osp.isdir(osp.join(root, 'cls')):
            return root
    raise DataError(
        f'{path}: no cls/ folder here or in {osp.join(path, "dataset")}; '
        'pass the extracted SBD benchmark_RELEASE folder')


def read_ids(path: str) -> List[str]:
    """Image ids of a list file, one per line (first token)."""
    if not osp.isfile(path):
        raise DataError(f'list file not found: {path}; is the '
                              'data set extracted completely?')
    with open(path, encoding='utf-8') as f:
        return [line.split()[0] for line in f if line.strip()]


def list_stems(folder: str, suffix: str) -> List[str]:
    """Sorted names (without ``suffix``) of the ``*suffix`` files in
    ``folder``."""
    files = glob.glob(osp.join(glob.escape(folder), '*' + suffix))
    return sorted(osp.basename(f)[:-len(suffix)] for f in files)


def train_aug_ids(sbd_train: Iterable[str], sbd_val: Iterable[str],
                  voc_train: Iterable[str],
                  voc_val: Iterable[str]) -> List[str]:
    """(SBD train + SBD val + VOC train) minus VOC val, sorted, unique."""
    return sorted((set(sbd_train) | set(sbd_val) | set(voc_train)) -
                  set(voc_val))


def load_sbd_mask(path: str) -> np.ndarray:
    """The H×W class map of an SBD ``cls/*.mat`` file
    (``GTcls.Segmentation``)."""
    from scipy.io import loadmat
    try:
        mat = loadmat(path, struct_as_record=False, squeeze_me=True)
        seg = mat['GTcls'].Segmentation
    except (KeyError, AttributeError) as err:
        raise DataError(
            f'{path}: no GTcls.Segmentation ({type(err).__name__}: {err}); '
            'is this a file of SBD\'s dataset/cls/ folder (not inst/)?'
        ) from err
    except (OSError, ValueError, TypeError) as err:
        raise DataError(f'{path}: cannot read the .mat file ({err}); '
                              're-extract SBD') from err
    return np.asarray(seg)


def check_mask(mask: np.ndarray, path: str) -> np.ndarray:
    """``mask`` as uint8 after checking it is a 2-D map of VOC class ids
    (0..20, 255)."""
    if mask.ndim != 2:
        raise DataError(
            f'{path}: expected a 2-D class map, got shape {mask.shape} '
            '(an RGB mask? use the palette PNGs of the VOC release)')
    bad = np.setdiff1d(np.unique(mask),
                       [*range(NUM_CLASSES), IGNORE_INDEX])
    if bad.size:
        raise DataError(
            f'{path}: values {bad[:5].tolist()} are not VOC class ids '
            f'(0..{NUM_CLASSES - 1}, {IGNORE_INDEX})')
    return mask.astype(np.uint8)


class MaskJob(ImageJob):
    """Writes the mask of one image id from its source (SBD or VOC)."""

    passthrough = (DataError, FileNotFoundError)

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.palette = voc_palette()

    def out_path(self, img_id: str) -> str:
        return osp.join(self.out_dir, f'{img_id}.png')

    def run(self, item: Tuple[str, str]) -> str:
        img_id, src = item
        out = self.out_path(img_id)
        if osp.exists(out):
            return 'skipped'
        if src.endswith('.mat'):
            mask = load_sbd_mask(src)
        else:
            mask = load_label(src, 'VOC mask')
        save_indexed_png(out, check_mask(mask, src), self.palette)
        return 'written'


def mask_sources(voc_root: str, sbd_root: str) -> Dict[str, str]:
    """{image id: source file}: every SBD ``cls/*.mat``, replaced by the
    VOC 2012 ``SegmentationClass/*.png`` of the same id."""
    cls_dir = osp.join(sbd_root, 'cls')
    voc_dir = osp.join(voc_root, 'SegmentationClass')
    sources = {i: osp.join(cls_dir, f'{i}.mat')
               for i in list_stems(cls_dir, '.mat')}
    sources.update({i: osp.join(voc_dir, f'{i}.png')
                    for i in list_stems(voc_dir, '.png')})
    return sources


def write_list(path: str, ids: List[str]) -> None:
    """Write ``ids``, one per line, atomically."""
    atomic_write_bytes(path, ''.join(f'{i}\n' for i in ids).encode())


def convert(voc_root: str, sbd_root: str, out_dir: Optional[str] = None,
            nproc: int = 1) -> Tuple[int, int]:
    """Write the masks and ``train_aug.txt``; returns (masks written,
    train_aug size)."""
    voc_root, sbd_root = find_voc_root(voc_root), find_sbd_root(sbd_root)
    out_dir = out_dir or osp.join(voc_root, 'SegmentationClassAug')
    lists = osp.join(voc_root, LIST_DIR)
    train_aug = train_aug_ids(
        read_ids(osp.join(sbd_root, 'train.txt')),
        read_ids(osp.join(sbd_root, 'val.txt')),
        read_ids(osp.join(lists, 'train.txt')),
        read_ids(osp.join(lists, 'val.txt')))
    sources = mask_sources(voc_root, sbd_root)
    missing = [i for i in train_aug if i not in sources]
    if missing:
        raise DataError(
            f'{len(missing)} train_aug images have neither an SBD .mat in '
            f'{osp.join(sbd_root, "cls")} nor a VOC mask, e.g. '
            f'{missing[:3]}; is one of the data sets incomplete?')
    job = MaskJob(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    todo = [(i, sources[i]) for i in sorted(sources)
            if not osp.exists(job.out_path(i))]
    print(f'{len(sources)} masks ({len(sources) - len(todo)} already in '
          f'{out_dir}), {len(todo)} to write')
    results = run_jobs(job, todo, nproc, 'masks')
    write_list(osp.join(lists, 'train_aug.txt'), train_aug)
    print(f'wrote {osp.join(lists, "train_aug.txt")} ({len(train_aug)} '
          'images)')
    return results.count('written'), len(train_aug)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        convert(args.voc_root, args.sbd_root, args.out_dir, args.nproc)
    except (DataError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
