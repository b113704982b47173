"""Benchmark one W-OoD training step (in-distribution batch + OoD batch).

    python benchmarks/woods_step.py [--config CONFIG] [--batch B]
        [--ood-batch B] [--crop C] [--steps 10] [--warmup 2]
        [--device cpu|cuda] [--amp] [--channels-last]

Builds the config's (default ``configs/woods/woods_tiny_synthetic.py``,
CPU-sized; ``configs/woods/woods_r50_voc.py`` with ``--device cuda``:
crop 512, batch 16 + 16) W-OoD model (random weights: ``pretrained`` and
``init_checkpoint`` are dropped, no checkpoint file is read) and its
optimizer wrapper (``build_optim_wrapper`` with the config's
``optim_wrapper``: type, constructor and paramwise settings, as the runner
builds it), then times ``model.train_step`` on random uint8 images of
``--crop`` (default: the config's ``crop_size``). The OoD batch is passed
as ``OoDBatchHook`` passes it (``data['ood']``, collated, not
preprocessed; default size: the hook's ``ood_dataloader.batch_size``), and
the centres ``WOoDCentresHook`` would compute before training are random
tensors of the model's shapes (C×D class, K×D OoD), set with
``set_centres``: no data set, centres file or checkpoint is needed, and
the work per step does not depend on the values.

Each step runs the adversarial climb of the OoD batch (one forward and an
input-gradient backward over the OoD images), then one forward / backward
over the in-distribution and climbed OoD images together, and the
optimizer update. Printed: images/s counting both streams (ID + OoD
images per second) and the ID images/s alone, ms/step, the share of the
step spent in the climb (timed around ``adversarial_climb``; on CUDA
synchronised before and after it), and the peak memory (CUDA:
``torch.cuda.max_memory_allocated`` over the timed steps; CPU: the
process's peak RSS). The last line is the summary (the one
``benchmarks/gpu_check.sh`` tabulates). Not a test: a figure to compare
machines and changes.
"""
import argparse
import contextlib
import resource
import time
from typing import Optional

import mmwsss  # noqa: F401  isort:skip
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from mmwsss.apis.tool_utils import enable_amp
from mmwsss.models.classifiers import woods as woods_module
from mmwsss.registry import MODELS


def ood_batch_size(cfg: Config) -> Optional[int]:
    """The OoD batch size of the config's ``OoDBatchHook``, if any."""
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') == 'OoDBatchHook':
            return hook['ood_dataloader'].get('batch_size')
    return None


def random_batch(size: int, crop: int, num_classes: int,
                 labelled: bool) -> dict:
    """A collated batch as the dataloader gives it (uint8 images, one or
    two positive classes per labelled sample; OoD samples: none)."""
    inputs, samples = [], []
    for i in range(size):
        inputs.append(torch.randint(0, 255, (3, crop, crop),
                                    dtype=torch.uint8))
        ds = SegDataSample(metainfo=dict(img_shape=(crop, crop)))
        label = torch.zeros(num_classes)
        if labelled:
            label[i % num_classes] = 1
            label[(i + 1) % num_classes] = 1
        ds.set_data(dict(gt_label=label))
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


@contextlib.contextmanager
def timed_climb(device: str, seconds: list):
    """Time every ``adversarial_climb`` of the W-OoD model (appended to
    ``seconds``); the original function is restored on exit."""
    original = woods_module.adversarial_climb
    cuda = device.startswith('cuda')

    def climb(*args, **kwargs):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = original(*args, **kwargs)
        if cuda:
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
        return out

    woods_module.adversarial_climb = climb
    try:
        yield
    finally:
        woods_module.adversarial_climb = original


def main(argv: Optional[list] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config',
                        default='configs/woods/woods_tiny_synthetic.py')
    parser.add_argument('--batch', type=int,
                        help='in-distribution images per step (default: '
                        "the config's train_dataloader.batch_size)")
    parser.add_argument('--ood-batch', type=int,
                        help='OoD images per step (default: the '
                        "OoDBatchHook's ood_dataloader.batch_size)")
    parser.add_argument('--crop', type=int,
                        help="image size (default: the config's crop_size)")
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed steps first')
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', action='store_true',
                        help='AmpOptimWrapper (CUDA)')
    parser.add_argument('--channels-last', action='store_true')
    args = parser.parse_args(argv)

    cfg = Config.fromfile(args.config)
    init_default_scope('mmwsss')
    if cfg.model.get('type') != 'WOoD':
        parser.error(f'{args.config} is not a W-OoD config '
                     "(model.type='WOoD'): e.g. configs/woods/"
                     'woods_tiny_synthetic.py')
    if args.amp and not args.device.startswith('cuda'):
        parser.error('--amp needs --device cuda (mmengine\'s '
                     'AmpOptimWrapper)')
    batch = args.batch or cfg.train_dataloader.batch_size
    ood = args.ood_batch or ood_batch_size(cfg) or batch
    crop = args.crop or (cfg.get('crop_size') or
                         cfg.model.data_preprocessor['size'])[0]
    cfg.model.pretrained = None
    cfg.model.init_checkpoint = None
    cfg.model.data_preprocessor['size'] = (crop, crop)
    if args.amp:
        enable_amp(cfg)
    model = MODELS.build(cfg.model)
    model.set_centres(torch.rand(model.num_classes, model.feature_dim),
                      torch.rand(model.num_clusters, model.feature_dim))
    model = model.to(args.device).train()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)

    data = dict(random_batch(batch, crop, model.num_classes, True),
                ood=random_batch(ood, crop, model.num_classes, False))
    cuda = args.device.startswith('cuda')
    climb_secs: list = []
    with timed_climb(args.device, climb_secs):
        for _ in range(args.warmup):
            model.train_step(data, optim)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        del climb_secs[:]
        start = time.perf_counter()
        for _ in range(args.steps):
            log = model.train_step(data, optim)
        if cuda:
            torch.cuda.synchronize()
        secs = time.perf_counter() - start
    if cuda:
        peak = torch.cuda.max_memory_allocated() / 2**20
        mem = f'peak GPU memory {peak:.0f} MiB'
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        mem = f'peak process RSS {peak:.0f} MiB'
    step_ms = secs / args.steps * 1000
    climb_ms = sum(climb_secs) / args.steps * 1000
    figures = dict(images_per_s=(batch + ood) * args.steps / secs,
                   id_images_per_s=batch * args.steps / secs,
                   ms_per_step=step_ms, climb_ms_per_step=climb_ms,
                   climb_share=climb_ms / step_ms, peak_mib=peak)
    print(f'adversarial climb of the OoD batch: {climb_ms:.0f} ms/step '
          f'({100 * figures["climb_share"]:.0f} % of the step); the rest '
          f'(joint forward/backward, losses, update): '
          f'{step_ms - climb_ms:.0f} ms/step; last loss '
          f'{float(torch.as_tensor(log["loss"]).detach()):.4f}')
    print(f'{args.config} [W-OoD train_step]: '
          f'{figures["images_per_s"]:.1f} images/s (ID + OoD; '
          f'{figures["id_images_per_s"]:.1f} ID images/s), '
          f'{step_ms:.0f} ms/step, batch {batch}+{ood}, crop {crop}, '
          f'device {args.device}, amp={args.amp} ({type(optim).__name__}), '
          f'channels_last={args.channels_last}, torch threads '
          f'{torch.get_num_threads()}, {mem}', flush=True)
    return figures


if __name__ == '__main__':
    main()
