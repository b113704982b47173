"""Benchmark the saliency stage: TTA inference images/s, and pseudo-saliency
(threshold + 2-label dense CRF) images/s with 1 vs N worker processes.

    python benchmarks/saliency.py [--config CFG] [--cfg-options k=v ...]
        [--height 375] [--width 500] [--images 4] [--device cpu|cuda]
        [--crf-images 16] [--workers 1 2]

Inference: builds the config's C²AM model (random weights; speed does not
depend on them) and runs ``predict`` (all TTA scales × flip) on random
images. CRF: writes ``--crf-images`` VOC-size scenes and saliency maps to a
temporary folder and runs ``tools/make_pseudo_saliency.py``'s job on them
with each worker count (the tool's own code path, file I/O included).
Prints one line per figure. Not a test: figures to compare machines,
backbones and changes.
"""
import argparse
import os
import os.path as osp
import resource
import sys
import tempfile
import time

import mmwsss  # noqa: F401  isort:skip
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample
from PIL import Image

from mmwsss.registry import MODELS
from mmwsss.utils.saliency_io import save_saliency, saliency_path

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.conftest import load_tool  # noqa: E402  (picklable tool jobs)


def inference(args: argparse.Namespace) -> None:
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope('mmwsss')
    cfg.model.pretrained = None
    model = MODELS.build(cfg.model).to(args.device).eval()

    def one_image() -> None:
        img = torch.randint(0, 255, (3, args.height, args.width),
                            dtype=torch.uint8)
        ds = SegDataSample(metainfo=dict(img_shape=(args.height, args.width)))
        data = model.data_preprocessor(dict(inputs=[img], data_samples=[ds]))
        with torch.no_grad():
            model(**data, mode='predict')

    one_image()  # warm-up
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.images):
        one_image()
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
    secs = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    name = cfg.model.backbone.get('model_name', cfg.model.backbone.type)
    print(f'TTA saliency inference, {args.config} ({name}): '
          f'{args.images / secs:.2f} images/s ({args.height}x{args.width}, '
          f'scales {tuple(model.test_cfg["scales"])}, flip '
          f'{model.test_cfg["flip"]}, device {args.device}, torch threads '
          f'{torch.get_num_threads()}), peak RSS {peak:.0f} MiB', flush=True)


def scene(height: int, width: int, rng: np.random.Generator):
    """A textured image with a few blobs and a noisy saliency map."""
    yy, xx = np.mgrid[:height, :width]
    fg = np.zeros((height, width), bool)
    for _ in range(3):
        cy, cx = rng.uniform(0.2, 0.8, 2) * (height, width)
        ry, rx = rng.uniform(0.1, 0.25, 2) * (height, width)
        fg |= ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 < 1
    image = np.where(fg[..., None], rng.integers(120, 256, 3),
                     rng.integers(0, 120, 3)).astype(np.float64)
    image = np.clip(image + rng.normal(0, 10, image.shape), 0, 255)
    sal = np.clip(fg * 0.7 + rng.normal(0.1, 0.15, fg.shape), 0, 1)
    return image.astype(np.uint8), sal.astype(np.float32)


def crf(args: argparse.Namespace) -> None:
    tool = load_tool('make_pseudo_saliency')
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        sal_dir, img_dir = osp.join(tmp, 'sal'), osp.join(tmp, 'img')
        os.makedirs(img_dir)
        ids = [f'{i:04d}' for i in range(args.crf_images)]
        for img_id in ids:
            image, sal = scene(args.height, args.width, rng)
            Image.fromarray(image).save(osp.join(img_dir, f'{img_id}.jpg'))
            save_saliency(saliency_path(sal_dir, img_id), sal)
        for workers in args.workers:
            out_dir = osp.join(tmp, f'masks_{workers}')
            ns = tool.parse_args([
                '--sal-dir', sal_dir, '--out-dir', out_dir, '--crf',
                '--img-dir', img_dir, '--workers', str(workers)
            ])
            job = tool.PseudoSaliencyJob(ns)
            start = time.perf_counter()
            tool.run_jobs(job, ids, workers, f'{workers} worker(s)')
            secs = time.perf_counter() - start
            print(f'pseudo-saliency (threshold 0.2 + 2-label CRF, 10 '
                  f'iterations): {len(ids) / secs:.2f} images/s with '
                  f'{workers} worker process(es) ({args.height}x'
                  f'{args.width}, {os.cpu_count()} CPUs)', flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config',
                        default='configs/c2am/c2am_h_tiny_synthetic.py')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--height', type=int, default=375)
    parser.add_argument('--width', type=int, default=500)
    parser.add_argument('--images', type=int, default=4)
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--crf-images', type=int, default=16,
                        help='images for the CRF figure (0 skips it)')
    parser.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--no-inference', action='store_true')
    args = parser.parse_args()
    if not args.no_inference:
        inference(args)
    if args.crf_images:
        crf(args)


if __name__ == '__main__':
    main()
