"""Benchmark AdvCAM inference: seconds per image, classes batched in one
forward/backward pass against one class at a time.

    python benchmarks/advcam.py [--config CFG] [--height 375] [--width 500]
        [--images 2] [--classes 2] [--iterations T] [--class-batches 0 1]
        [--repeats 3] [--device cpu|cuda]

Builds the config's model (random weights: the work per iteration does not
depend on them), runs ``predict`` with the config's AdvCAM mode on random
images with ``--classes`` labelled classes, once per ``--class-batches``
value (0: all classes in one pass, the default of the mode; 1: the
reference's one class at a time), and prints seconds per image (median of
``--repeats`` rounds, the settings alternating within and between rounds
after an untimed warm-up image each, so machine load and warm-up hit all
alike) and the speed-up over one class at a time. ``--iterations``
overrides T (scale 0.5 runs the reduced schedule of
:func:`mmwsss.models.cam_modes.reduced_iterations`). Not a test: a figure
to compare machines and changes.
"""
import argparse
import resource
import statistics
import time
from typing import Callable, Optional

import mmwsss  # noqa: F401  isort:skip
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from mmwsss.models.cam_modes import AdvCAM
from mmwsss.registry import MODELS


def image_runner(model: torch.nn.Module, height: int, width: int,
                 classes: int, device: str) -> Callable[[], None]:
    """A function that predicts the CAMs of one random image."""
    label = torch.zeros(model.num_classes)
    label[:classes] = 1

    def one_image() -> None:
        img = torch.randint(0, 255, (3, height, width), dtype=torch.uint8)
        ds = SegDataSample(metainfo=dict(img_shape=(height, width)))
        ds.set_data(dict(gt_label=label))
        data = model.data_preprocessor(dict(inputs=[img], data_samples=[ds]))
        with torch.no_grad():  # as mmengine's test loop; AdvCAM enables grad
            model(**data, mode='predict')
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    return one_image


def timed(run: Callable[[], None], images: int, device: str) -> tuple:
    """(seconds per image, peak memory text) of ``images`` runs (on CPU the
    process's peak RSS so far, on CUDA the peak of these runs)."""
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(images):
        run()
    secs = (time.perf_counter() - start) / images
    if device.startswith('cuda'):
        peak = torch.cuda.max_memory_allocated() / 2**20
        mem = f'peak GPU memory {peak:.0f} MiB'
    else:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        mem = f'peak process RSS {rss:.0f} MiB'
    return secs, mem


def main(argv: Optional[list] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config',
                        default='configs/woods/advcam_tiny_synthetic.py')
    parser.add_argument('--height', type=int, default=375)
    parser.add_argument('--width', type=int, default=500)
    parser.add_argument('--images', type=int, default=2)
    parser.add_argument('--classes', type=int, default=2,
                        help='labelled classes per image')
    parser.add_argument('--iterations', type=int,
                        help="AdvCAM iterations T (default: the config's)")
    parser.add_argument('--class-batches', type=int, nargs='+',
                        default=[0, 1],
                        help='class_batch values to time (0: all classes)')
    parser.add_argument('--repeats', type=int, default=3,
                        help='timed rounds per setting (median reported)')
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)

    cfg = Config.fromfile(args.config)
    init_default_scope('mmwsss')
    if 'generator' in cfg.model:
        raise SystemExit('give a CAMClassifier config (not P-NOC): '
                         'e.g. configs/woods/advcam_tiny_synthetic.py')
    cfg.model.pretrained = None
    model = MODELS.build(cfg.model).to(args.device).eval()
    mode_cfg = dict(model.test_cfg['cam_mode'])
    if mode_cfg.get('type') != 'AdvCAM':
        raise SystemExit(f'{args.config} does not set model.test_cfg.'
                         "cam_mode=dict(type='AdvCAM', ...)")
    if args.iterations is not None:
        mode_cfg['iterations'] = args.iterations
    run = image_runner(model, args.height, args.width, args.classes,
                       args.device)

    settings = {batch: dict(mode_cfg, class_batch=batch or None)
                for batch in args.class_batches}
    for batch, setting in settings.items():  # warm-up
        model.test_cfg['cam_mode'] = setting
        run()
    rounds, mems = {batch: [] for batch in settings}, {}
    for r in range(args.repeats):
        order = list(settings) if r % 2 == 0 else list(settings)[::-1]
        for batch in order:
            model.test_cfg['cam_mode'] = settings[batch]
            secs, mems[batch] = timed(run, args.images, args.device)
            rounds[batch].append(secs)
    times = {batch: statistics.median(v) for batch, v in rounds.items()}
    for batch, secs in times.items():
        spread = ', '.join(f'{v:.2f}' for v in rounds[batch])
        print(f'class_batch={batch or "all"}: {secs:.2f} s/image '
              f'(rounds: {spread}), {mems[batch]}')
    mode = model.cam_mode
    assert isinstance(mode, AdvCAM)
    schedule = ', '.join(f'{s}:{t}' for s, t, _ in mode.schedule(
        model.test_cfg['scales']))
    print(f'{args.config}: {args.height}x{args.width}, {args.classes} '
          f'classes, scale:iterations {schedule}, flip='
          f'{model.test_cfg["flip"]}, device {args.device}, torch threads '
          f'{torch.get_num_threads()}')
    if 1 in times and len(times) > 1:
        for batch, secs in times.items():
            if batch != 1:
                print(f'speed-up of class_batch={batch or "all"} over one '
                      f'class at a time: {times[1] / secs:.2f}x')


if __name__ == '__main__':
    main()
