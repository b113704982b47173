"""Benchmark the random walk: dense reference (T squared 8 times) vs sparse.

    python benchmarks/random_walk.py [--sizes 500x375 250x188] [--classes 3]
        [--images 3] [--exp-times 8] [--radius 5] [--beta 10]
        [--dense-max-side 130] [--device cpu|cuda] [--threads N]

For each image size W×H the walk runs on the stride-4 map ceil(H/4)×ceil(W/4)
(VOC 500×375 → 94×125, N = 11,750 pixels) with K class maps (blobs) and a
boundary map (rings around them plus noise). Each measurement runs in a fresh
process, so the peak memory it reports is its own: the growth of the peak RSS
over the set-up (CPU) or ``torch.cuda.max_memory_allocated`` (CUDA). Prints
s/image, peak memory, the speed-up and the agreement of the full-resolution
labels (argmax over [background threshold 0.25, walked maps], one global max
normalisation) of the two methods.

The dense reference needs O(N²) memory (2-3 GiB at VOC size) and about
``exp_times · 2N³`` FLOPs (≈26 TFLOP at VOC size, minutes on 2 CPU cores).
Maps whose longer side exceeds ``--dense-max-side`` are not walked densely:
the time of one N×N matmul is measured and the dense time is extrapolated as
``exp_times × matmul`` (construction excluded, so it is a lower bound), its
memory as the (padded + 3 dense) matrices it holds. Such figures are marked
"extrapolated". A figure, not a test.
"""
import argparse
import multiprocessing as mp
import resource
import sys
import time
from typing import Tuple

import torch

from mmwsss.models.affinity.random_walk import (random_walk,
                                                rw_to_full_resolution,
                                                stride4_size)

MiB = 2**20


def make_scene(height: int, width: int, num_classes: int,
               seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """K blob CAMs (h×w) and a boundary map with a ring around each blob."""
    gen = torch.Generator().manual_seed(seed)
    ys = torch.arange(height, dtype=torch.float32)[:, None]
    xs = torch.arange(width, dtype=torch.float32)[None]
    side = float(min(height, width))
    edge = 0.15 * torch.rand(height, width, generator=gen)
    cams = []
    for _ in range(num_classes):
        cy = float(torch.rand(1, generator=gen)) * height
        cx = float(torch.rand(1, generator=gen)) * width
        rad = (0.1 + 0.15 * float(torch.rand(1, generator=gen))) * side
        dist = ((ys - cy)**2 + (xs - cx)**2).sqrt()
        cams.append((1 - dist / (1.6 * rad)).clamp(0, 1))
        ring = torch.exp(-((dist - 1.3 * rad) / (0.03 * side + 0.5))**2)
        edge = torch.maximum(edge, ring)
    return torch.stack(cams), edge.clamp(0, 1)


def peak_bytes(device: torch.device) -> int:
    """Peak memory so far: CUDA allocator peak, or the process's peak RSS."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def measure(job: dict) -> dict:
    """One timed walk (in a child process): seconds, peak growth, labels."""
    torch.set_num_threads(job['threads'])
    device = torch.device(job['device'])
    height, width = job['image_size']
    cams, edge = make_scene(*stride4_size((height, width)), job['classes'],
                            job['seed'])
    cams, edge = cams.to(device), edge.to(device)
    kwargs = dict(beta=job['beta'], exp_times=job['exp_times'],
                  radius=job['radius'])
    if job['warmup']:  # first-call costs (CUDA context, kernels, caches)
        random_walk(cams[:, :16, :16], edge[:16, :16], exp_times=1,
                    radius=job['radius'], method=job['method'])
    sync(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    base = peak_bytes(device)
    start = time.perf_counter()
    walked = random_walk(cams, edge, method=job['method'], **kwargs)
    sync(device)
    secs = time.perf_counter() - start
    peak = peak_bytes(device) - base
    full = rw_to_full_resolution(walked, (height, width)).cpu()
    labels = torch.cat([torch.full_like(full[:1], 0.25), full]).argmax(0)
    return dict(secs=secs, peak=max(peak, 0), labels=labels, maps=full)


def matmul_seconds(num: int, threads: int, device: str) -> float:
    """Time of one fp32 N×N matmul (in a child process)."""
    torch.set_num_threads(threads)
    dev = torch.device(device)
    a = torch.rand(num, num, device=dev)
    a = a / a.sum(0, keepdim=True)
    sync(dev)
    start = time.perf_counter()
    a @ a
    sync(dev)
    return time.perf_counter() - start


def run_isolated(fn, *args):
    ctx = mp.get_context('spawn')
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def bench_size(args: argparse.Namespace, image_size: Tuple[int, int]) -> None:
    height, width = image_size
    h4, w4 = stride4_size(image_size)
    num = h4 * w4
    print(f'--- image {width}x{height} -> map {h4}x{w4} (N={num}), '
          f'K={args.classes}, beta {args.beta}, 2^{args.exp_times} steps, '
          f'radius {args.radius}, device {args.device}, torch threads '
          f'{args.threads}')
    job = dict(image_size=image_size, classes=args.classes, beta=args.beta,
               exp_times=args.exp_times, radius=args.radius,
               device=args.device, threads=args.threads)
    sparse = [run_isolated(measure, dict(job, method='sparse', seed=s,
                                         warmup=True))
              for s in range(args.images)]
    sparse_s = sum(r['secs'] for r in sparse) / len(sparse)
    sparse_peak = max(r['peak'] for r in sparse)
    print(f'  sparse: {sparse_s:.3f} s/image (mean of {args.images}), '
          f'peak +{sparse_peak / MiB:.1f} MiB')

    if max(h4, w4) <= args.dense_max_side:
        dense = run_isolated(measure, dict(job, method='dense', seed=0,
                                           warmup=False))
        dense_s, how = dense['secs'], 'measured'
        print(f'  dense:  {dense_s:.3f} s/image (measured, 1 image), peak '
              f'+{dense["peak"] / MiB:.1f} MiB')
        same = (dense['labels'] == sparse[0]['labels']).float().mean().item()
        diff = (dense['maps'] - sparse[0]['maps']).abs().max().item()
        agreement = (f'labels identical {100 * same:.3f} % (bg 0.25), max '
                     f'|map difference| {diff:.1e}')
    else:
        mm = run_isolated(matmul_seconds, num, args.threads, args.device)
        dense_s, how = args.exp_times * mm, 'extrapolated'
        padded = (h4 + args.radius) * (w4 + 2 * args.radius)
        est = (padded**2 + 3 * num**2) * 4
        print(f'  dense:  {dense_s:.1f} s/image (EXTRAPOLATED: '
              f'{args.exp_times} x {mm:.2f} s per measured {num}x{num} '
              f'matmul, construction excluded), peak ~{est / MiB:.0f} MiB '
              '(estimated)')
        agreement = 'label agreement not measured (dense not run)'
    print(f'  speed-up sparse vs dense: {dense_s / sparse_s:.0f}x ({how}); '
          f'{agreement}')


def parse_size(text: str) -> Tuple[int, int]:
    """'WxH' -> (H, W)."""
    width, height = (int(v) for v in text.lower().split('x'))
    return height, width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', nargs='+', default=['500x375', '250x188'],
                        help='image sizes WxH')
    parser.add_argument('--classes', type=int, default=3)
    parser.add_argument('--images', type=int, default=3,
                        help='sparse runs (seeds) per size')
    parser.add_argument('--beta', type=float, default=10.0)
    parser.add_argument('--exp-times', type=int, default=8)
    parser.add_argument('--radius', type=int, default=5)
    parser.add_argument('--dense-max-side', type=int, default=130,
                        help='longest stride-4 side walked densely')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        sys.exit('CUDA is not available')
    for size in args.sizes:
        bench_size(args, parse_size(size))


if __name__ == '__main__':
    main()
