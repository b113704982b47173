"""Benchmark ICD's superpixel generation: images/s with 1 and N worker
processes, and the time of each step.

    python benchmarks/superpixels.py [--source photos|synthetic]
        [--height 375] [--width 500] [--images 16] [--workers 1 2]
        [--max-regions 64]

Images: ``photos`` (default) are the colour photographs scikit-image ships
(astronaut, chelsea, coffee, rocket), resized to
``--height``×``--width``, so the figure reflects natural-image texture;
``synthetic`` are random textured shapes. They are written as JPEGs to a
temporary folder; ``tools/make_superpixels.py``'s job then runs on them
with each worker count (the tool's own code path: read, Felzenszwalb,
merge, atomic PNG write). An in-process pass first gives the mean time of
Felzenszwalb and of the merge, and the region counts before and after the
merge. Prints one line per figure. Not a test: figures to compare
machines and changes.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time
from typing import List, Optional

import numpy as np
from PIL import Image
from skimage import data as skimage_data

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmwsss.utils.superpixels import (MAX_REGIONS,  # noqa: E402
                                      felzenszwalb_regions, merge_regions)
from tests.conftest import load_tool  # noqa: E402
#: Colour photographs shipped with scikit-image.
PHOTOS = ('astronaut', 'chelsea', 'coffee', 'rocket')


def photo(index: int, height: int, width: int) -> np.ndarray:
    """The ``index``-th shipped photograph (cycling), resized, flipped on
    odd rounds so repeated photos are not identical inputs."""
    name = PHOTOS[index % len(PHOTOS)]
    image = Image.fromarray(getattr(skimage_data, name)()).convert('RGB')
    image = np.asarray(image.resize((width, height), Image.BICUBIC))
    return image[:, ::-1] if (index // len(PHOTOS)) % 2 else image


def synthetic(height: int, width: int,
              rng: np.random.Generator) -> np.ndarray:
    """Random ellipses and rectangles on a gradient, with texture noise."""
    yy, xx = np.mgrid[:height, :width]
    image = np.empty((height, width, 3))
    image[...] = rng.uniform(0, 255, 3) * (0.5 + 0.5 * xx[..., None] / width)
    for k in range(12):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        ry, rx = rng.uniform(0.05, 0.3, 2) * (height, width)
        if k % 2:
            mask = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 < 1
        else:
            mask = (abs(yy - cy) < ry) & (abs(xx - cx) < rx)
        image[mask] = rng.uniform(0, 255, 3)
    image += rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_images(args: argparse.Namespace) -> List[np.ndarray]:
    rng = np.random.default_rng(0)
    if args.source == 'photos':
        return [photo(i, args.height, args.width)
                for i in range(args.images)]
    return [synthetic(args.height, args.width, rng)
            for _ in range(args.images)]


def main(argv: Optional[list] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--source', choices=('photos', 'synthetic'),
                        default='photos')
    parser.add_argument('--height', type=int, default=375)
    parser.add_argument('--width', type=int, default=500)
    parser.add_argument('--images', type=int, default=16)
    parser.add_argument('--workers', type=int, nargs='+',
                        default=[1, os.cpu_count() or 1])
    parser.add_argument('--max-regions', type=int, default=MAX_REGIONS)
    args = parser.parse_args(argv)
    if args.images < 1 or min(args.workers) < 1:
        parser.error('--images and --workers must be >= 1')
    images = make_images(args)
    size = f'{args.height}x{args.width}, {args.source}'

    fz_s, merge_s, before, after = 0.0, 0.0, [], []
    for image in images:
        start = time.perf_counter()
        regions = felzenszwalb_regions(image)
        mid = time.perf_counter()
        merged = merge_regions(regions, image, args.max_regions)
        fz_s += mid - start
        merge_s += time.perf_counter() - mid
        before.append(int(regions.max()) + 1)
        after.append(int(merged.max()) + 1)
    n = len(images)
    figures = dict(felzenszwalb_ms=1000 * fz_s / n,
                   merge_ms=1000 * merge_s / n,
                   regions_before=float(np.mean(before)),
                   regions_after=float(np.mean(after)))
    print(f'in process ({size}): Felzenszwalb {figures["felzenszwalb_ms"]:.0f}'
          f' ms/image, merge {figures["merge_ms"]:.0f} ms/image; regions '
          f'{figures["regions_before"]:.0f} -> {figures["regions_after"]:.1f}'
          f' (mean; at most {args.max_regions})', flush=True)

    tool = load_tool('make_superpixels')
    with tempfile.TemporaryDirectory() as tmp:
        img_dir = osp.join(tmp, 'img')
        os.makedirs(img_dir)
        ids = [f'{i:04d}' for i in range(n)]
        for img_id, image in zip(ids, images):
            Image.fromarray(image).save(osp.join(img_dir, f'{img_id}.jpg'),
                                        quality=95)
        for workers in args.workers:
            ns = tool.parse_args([
                '--img-dir', img_dir, '--out-dir',
                osp.join(tmp, f'sp_{workers}'), '--max-regions',
                str(args.max_regions), '--workers', str(workers)])
            items = tool.items_from_folder(ns)
            job = tool.SuperpixelJob(ns)
            start = time.perf_counter()
            tool.run_jobs(job, items, workers, f'{workers} worker(s)',
                          chunksize=1)
            rate = n / (time.perf_counter() - start)
            figures[f'images_per_s_{workers}'] = rate
            print(f'superpixels (tools/make_superpixels.py job, read + '
                  f'Felzenszwalb + merge + PNG write): {rate:.2f} images/s '
                  f'with {workers} worker process(es) ({size}, {n} images, '
                  f'{os.cpu_count()} CPUs)', flush=True)
    return figures


if __name__ == '__main__':
    main()
