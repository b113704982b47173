"""Benchmark TTA CAM inference: images/s and peak memory.

    python benchmarks/cam_inference.py [--config CFG] [--height 375]
        [--width 500] [--images 8] [--device cpu|cuda] [--amp]

Builds the config's model (random weights; speed does not depend on them),
runs ``predict`` (all TTA scales × flip) on random images of the given size
and prints one line of figures. Not a test: a figure to compare machines,
backbones and changes.
"""
import argparse
import resource
import time

import mmwsss  # noqa: F401  isort:skip
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from mmwsss.registry import MODELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default='configs/cam/cam_tiny_synthetic.py')
    parser.add_argument('--height', type=int, default=375)
    parser.add_argument('--width', type=int, default=500)
    parser.add_argument('--images', type=int, default=8)
    parser.add_argument('--classes', type=int, default=2,
                        help='labelled classes per image')
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', action='store_true')
    parser.add_argument('--channels-last', action='store_true')
    args = parser.parse_args()

    cfg = Config.fromfile(args.config)
    init_default_scope('mmwsss')
    cfg.model.pretrained = None
    model = MODELS.build(cfg.model).to(args.device).eval()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    label = torch.zeros(model.num_classes)
    label[:args.classes] = 1

    def one_image():
        img = torch.randint(0, 255, (3, args.height, args.width),
                            dtype=torch.uint8)
        ds = SegDataSample(metainfo=dict(img_shape=(args.height, args.width)))
        ds.set_data(dict(gt_label=label))
        data = model.data_preprocessor(dict(inputs=[img], data_samples=[ds]))
        with torch.no_grad(), torch.autocast(
                device_type=args.device.split(':')[0], enabled=args.amp):
            model(**data, mode='predict')

    one_image()  # warm-up
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(args.images):
        one_image()
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
        mem = f'peak GPU memory {peak:.0f} MiB'
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        mem = f'peak process RSS {peak:.0f} MiB'
    secs = time.perf_counter() - start
    scales = model.test_cfg['scales']
    print(f'{args.config}: {args.images / secs:.2f} images/s '
          f'({args.height}x{args.width}, scales {tuple(scales)}, '
          f'flip={model.test_cfg["flip"]}, device {args.device}, '
          f'amp={args.amp}), {mem}, torch threads {torch.get_num_threads()}')


if __name__ == '__main__':
    main()
