"""Benchmark the dense-CRF backends: s/image and agreement, or mIoU parity.

    python benchmarks/crf.py [--height 375] [--width 500] [--labels 21 2]
        [--preset deeplab_v2] [--iterations 10] [--images 3] [--batch 4]
        [--devices cpu cuda] [--threads N]
    python benchmarks/crf.py --miou [--data-root data/synthetic]
        [--split val] [--devices cpu]

Timing mode: VOC-size synthetic scenes (colour regions with texture noise)
and noisy class scores. Runs pydensecrf (when installed) and the 'torch'
backend on each device (CUDA only when available) image by image, plus the
torch backend on one batch of ``--batch`` images, and prints s/image and the
agreement of each torch run with pydensecrf (share of identical argmax
labels, max |ΔQ|). Warm-up runs are excluded. A figure, not a test.

mIoU mode: for every image of a split of the synthetic VOC-layout data set,
corrupts the ground truth into coarse, noisy class scores (CAM-like) and
their argmax labels, refines them with ``infer_probs`` (preset
``crf_softmax``) and ``infer_labels`` (preset ``crf_label``, gt_prob 0.7)
on every backend, and prints the mIoU of the input and of each backend, and
the backends' mIoU difference and label agreement.
"""
import argparse
import importlib.util
import os.path as osp
import time
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from mmwsss.crf import DenseCRF


def make_scene(height: int, width: int, labels: int,
               rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """A textured image of random rectangles/ellipses and noisy class scores
    (C×H×W softmax, ~70 % right) for it."""
    truth = np.zeros((height, width), np.int64)
    yy, xx = np.mgrid[:height, :width]
    colours = [rng.integers(0, 256, 3)]
    for k in range(1, 7):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        ry, rx = rng.uniform(0.1, 0.3) * height, rng.uniform(0.1, 0.3) * width
        if k % 2:
            mask = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 < 1
        else:
            mask = (abs(yy - cy) < ry) & (abs(xx - cx) < rx)
        truth[mask] = k
        colours.append(rng.integers(0, 256, 3))
    image = np.asarray(colours, np.float64)[truth]
    image += rng.normal(0, 8, image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    classes = rng.integers(0, labels, 7)
    classes[0] = 0
    return image, noisy_scores(classes[truth], labels, rng)


def noisy_scores(truth: np.ndarray, labels: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Coarse (1/8 resolution), noisy softmax scores around a label map."""
    height, width = truth.shape
    onehot = F.one_hot(torch.from_numpy(truth.astype(np.int64)),
                       labels).permute(2, 0, 1)
    coarse = F.adaptive_avg_pool2d(onehot[None].float(),
                                   (max(1, height // 8), max(1, width // 8)))
    logits = 4.0 * F.interpolate(
        coarse, (height, width), mode='bilinear', align_corners=False)[0]
    logits += torch.from_numpy(rng.normal(0, 1.0, logits.shape)).float()
    return torch.softmax(logits, 0).numpy()


def available_backends(devices: List[str]) -> List[Tuple[str, str]]:
    """(backend, device) pairs to run; device '' for pydensecrf."""
    runs = []
    if importlib.util.find_spec('pydensecrf') is not None:
        runs.append(('pydensecrf', ''))
    for device in devices:
        if device.startswith('cuda') and not torch.cuda.is_available():
            print(f'skipping {device}: CUDA is not available')
            continue
        runs.append(('torch', device))
    return runs


def build(preset: str, backend: str, device: str, **overrides) -> DenseCRF:
    spec = backend if backend == 'pydensecrf' else dict(type=backend,
                                                        device=device)
    return DenseCRF.from_preset(preset, backend=spec, **overrides)


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def timing(args: argparse.Namespace) -> None:
    """Per-image and batched s/image at VOC size."""
    runs = available_backends(args.devices)
    for labels in args.labels:
        rng = np.random.default_rng(0)
        scenes = [make_scene(args.height, args.width, labels, rng)
                  for _ in range(max(args.images, args.batch) + 1)]
        results: Dict[str, np.ndarray] = {}
        print(f'--- {args.height}x{args.width}, {labels} labels, preset '
              f'{args.preset}, {args.iterations} iterations, torch threads '
              f'{torch.get_num_threads()}')
        for backend, device in runs:
            crf = build(args.preset, backend, device,
                        iterations=args.iterations)
            name = backend + (f'[{device}]' if device else '')
            crf.infer_probs(*scenes[0])  # warm-up
            sync(device)
            start = time.perf_counter()
            qs = [crf.infer_probs(image, probs)
                  for image, probs in scenes[1:args.images + 1]]
            sync(device)
            secs = (time.perf_counter() - start) / args.images
            results[name] = np.stack(qs)
            print(f'{name:>20}: {secs:.3f} s/image' +
                  agreement(results, name))
            if backend == 'torch' and args.batch > 1:
                images = torch.from_numpy(
                    np.stack([s[0] for s in scenes[1:args.batch + 1]]))
                probs = torch.from_numpy(
                    np.stack([s[1] for s in scenes[1:args.batch + 1]]))
                images, probs = images.to(device), probs.to(device)
                crf.infer_probs_batch(images[:1], probs[:1])  # warm-up
                sync(device)
                start = time.perf_counter()
                crf.infer_probs_batch(images, probs)
                sync(device)
                secs = (time.perf_counter() - start) / args.batch
                print(f'{name + " batch " + str(args.batch):>20}: '
                      f'{secs:.3f} s/image')


def agreement(results: Dict[str, np.ndarray], name: str) -> str:
    """Agreement of ``results[name]`` with pydensecrf's, as text."""
    if name == 'pydensecrf' or 'pydensecrf' not in results:
        return ''
    ref, out = results['pydensecrf'], results[name]
    n = min(len(ref), len(out))
    same = (ref[:n].argmax(1) == out[:n].argmax(1)).mean()
    return (f', labels identical to pydensecrf {100 * same:.3f} %, '
            f'max |dQ| {np.abs(ref[:n] - out[:n]).max():.2e}')


def read_split(root: str, split: str) -> List[Tuple[np.ndarray, np.ndarray]]:
    """(image, ground truth) pairs of a VOC-layout split."""
    from PIL import Image
    with open(osp.join(root, 'ImageSets', 'Segmentation',
                       f'{split}.txt')) as f:
        names = [line.strip() for line in f if line.strip()]
    pairs = []
    for name in names:
        image = Image.open(osp.join(root, 'JPEGImages', f'{name}.jpg'))
        truth = Image.open(osp.join(root, 'SegmentationClass', f'{name}.png'))
        pairs.append((np.asarray(image.convert('RGB')), np.asarray(truth)))
    return pairs


def confusion(pred: np.ndarray, truth: np.ndarray, n: int) -> np.ndarray:
    valid = truth < n
    return np.bincount(n * truth[valid] + pred[valid],
                       minlength=n * n).reshape(n, n)


def miou(conf: np.ndarray) -> float:
    union = conf.sum(0) + conf.sum(1) - np.diag(conf)
    present = union > 0
    return float((np.diag(conf)[present] / union[present]).mean())


def miou_parity(args: argparse.Namespace) -> None:
    """mIoU of CRF-refined corrupted ground truth, per backend."""
    with open(osp.join(args.data_root, 'classes.txt')) as f:
        n = len([line for line in f if line.strip()])
    pairs = read_split(args.data_root, args.split)
    runs = available_backends(args.devices)
    rng = np.random.default_rng(0)
    inputs = [noisy_scores(np.where(truth < n, truth, 0), n, rng)
              for _, truth in pairs]
    conf = {'input': np.zeros((n, n), np.int64)}
    preds: Dict[str, Dict[str, list]] = {}
    for (image, truth), probs in zip(pairs, inputs):
        conf['input'] += confusion(probs.argmax(0), truth, n)
    for backend, device in runs:
        name = backend + (f'[{device}]' if device else '')
        crfs = dict(probs=build('crf_softmax', backend, device),
                    labels=build('crf_label', backend, device))
        preds[name] = dict(probs=[], labels=[])
        start = time.perf_counter()
        for (image, truth), probs in zip(pairs, inputs):
            pred_p = crfs['probs'].infer_probs(image, probs).argmax(0)
            pred_l = crfs['labels'].infer_labels(image, probs.argmax(0), n)
            for mode, pred in (('probs', pred_p), ('labels', pred_l)):
                preds[name][mode].append(pred)
                key = f'{name} {mode}'
                conf[key] = conf.get(key, 0) + confusion(pred, truth, n)
        secs = (time.perf_counter() - start) / (2 * len(pairs))
        print(f'{name}: {secs:.3f} s per CRF call')
    print(f'--- {args.data_root} {args.split}: {len(pairs)} images, '
          f'{n} classes')
    for key, value in conf.items():
        print(f'{key:>28}: mIoU {100 * miou(value):.2f}')
    names = list(preds)
    for other in names[1:]:
        for mode in ('probs', 'labels'):
            delta = miou(conf[f'{other} {mode}']) - miou(
                conf[f'{names[0]} {mode}'])
            same = np.mean([(a == b).mean() for a, b in zip(
                preds[names[0]][mode], preds[other][mode])])
            print(f'{other} vs {names[0]} ({mode}): ΔmIoU '
                  f'{100 * delta:+.3f} points, identical labels '
                  f'{100 * same:.3f} %')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--height', type=int, default=375)
    parser.add_argument('--width', type=int, default=500)
    parser.add_argument('--labels', type=int, nargs='+', default=[21, 2])
    parser.add_argument('--preset', default='deeplab_v2',
                        choices=['crf_softmax', 'crf_label', 'deeplab_v2'])
    parser.add_argument('--iterations', type=int, default=10)
    parser.add_argument('--images', type=int, default=3)
    parser.add_argument('--batch', type=int, default=4,
                        help='batch size of the batched torch run (1: off)')
    parser.add_argument('--devices', nargs='+', default=['cpu', 'cuda'])
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch\'s)')
    parser.add_argument('--miou', action='store_true',
                        help='mIoU parity on the synthetic data set instead')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--split', default='val')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.miou:
        miou_parity(args)
    else:
        timing(args)


if __name__ == '__main__':
    main()
