"""Benchmark one training step of a CAM trainer (P-NOC by default).

    python benchmarks/train_step.py [--config configs/pnoc/pnoc_tiny_synthetic.py]
        [--batch 16] [--crop 64] [--steps 10] [--device cpu|cuda] [--amp]
        [--channels-last] [--loop mmwsss|reference|both] [--repeats 3]

Builds the config's model and optimizers (random weights, no checkpoint
files read), runs ``train_step`` on random images and prints images/s and
peak memory. Per step P-NOC runs the generator on the image and on its
puzzle tiles, the noc on the soft-erased image (generator update) and on
the hard-erased image (noc update) — the reference's four forwards, with no
extra forward, recomputation or host synchronisation.

``--loop reference`` times a plain PyTorch loop written from the reference
``train_pnoc.py`` step (P-NOC spec §3.5: explicit backward / step /
zero_grad per network, a GradScaler each under AMP) over the same networks,
optimizers and inputs, so the mmengine ``train_step`` can be compared with
it on the same machine; ``both`` runs each loop in its own process (peak
memory is per process), alternating ``--repeats`` times, and prints the
median ratio.
"""
import argparse
import re
import resource
import statistics
import subprocess
import sys
import time

import mmwsss  # noqa: F401  isort:skip
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from mmwsss.models.utils import (hard_erase, merge_features,
                                 sample_one_positive, soft_erase,
                                 tile_features)
from mmwsss.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS


def build_optim(cfg: Config, model):
    ow_cfg = cfg.optim_wrapper.to_dict()
    constructor = ow_cfg.pop('constructor', 'DefaultOptimWrapperConstructor')
    paramwise = ow_cfg.pop('paramwise_cfg', None)
    return OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=constructor, optim_wrapper_cfg=ow_cfg,
             paramwise_cfg=paramwise))(model)


def reference_step(model, optim, data: dict, step: int, total: int,
                   scalers: dict, device: str) -> None:
    """One P-NOC micro-step as the reference loop writes it (spec §3.5):
    generator losses → backward → step every ``accum``; hard-erased image →
    noc loss → backward → step. The noc's parameters stay in the
    generator's graph, so its CSE gradient leaks into the noc update as in
    the reference (our default, ``noc_receives_cse_grad=True``)."""
    data = model.data_preprocessor(data, True)
    x = data['inputs']
    y = model.generator.stack_labels(data['data_samples']).to(x.device)
    w = {k: f(step, total) for k, f in model.weights.items()}
    gen_opt, noc_opt = optim['generator'], optim['noc']
    amp = dict(device_type=device.split(':')[0], enabled=bool(scalers))
    with torch.autocast(**amp):
        logits, cams = model.generator(x, mode='tensor')
        _, tile_cams = model.generator(tile_features(x), mode='tensor')
        merged = merge_features(tile_cams)
        loss = model.loss_cls(logits, y) + model.loss_cls(
            merged.mean(dim=(2, 3)), y) + w['re'] * (
                (cams - merged).abs() * y[:, :, None, None]).mean()
        choice = sample_one_positive(y)
        soft = soft_erase(x, cams, choice, model.soft_mask_global_norm,
                          model.mask_align)
        oc_logits, _ = model.noc(soft, mode='tensor')
        loss = loss + w['cse'] * model.loss_cls(oc_logits,
                                                (y - choice).clamp(min=0))
    _backward_step('generator', gen_opt, loss, step, scalers)
    with torch.autocast(**amp):
        hard = hard_erase(x, cams.detach(), choice, model.noc_threshold,
                          model.hard_mask_global_norm, model.erase_rule,
                          model.mask_align).detach()
        noc_logits, _ = model.noc(hard, mode='tensor')
        loss_noc = w['noc'] * model.loss_cls(noc_logits, y)
    _backward_step('noc', noc_opt, loss_noc, step, scalers)


def _backward_step(name: str, wrapper, loss: torch.Tensor, step: int,
                   scalers: dict) -> None:
    """backward every micro-step; step + zero_grad every ``accum`` (the
    reference's unscaled sum of micro-batch gradients)."""
    opt = wrapper.optimizer
    accum = getattr(wrapper, '_accumulative_counts', 1)
    scaler = scalers.get(name)
    (scaler.scale(loss) if scaler else loss).backward()
    if (step + 1) % accum == 0:
        if scaler:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad()


def run_both(argv: list, repeats: int) -> None:
    """Each loop in its own process, alternating ``repeats`` times; print
    every line and the median throughput ratio (a shared machine's noise
    is several per cent per run)."""
    rates = {'reference': [], 'mmwsss': []}
    for _ in range(repeats):
        for loop in rates:
            out = subprocess.run(
                [sys.executable, __file__, *argv, '--loop', loop],
                check=True, capture_output=True, text=True).stdout.strip()
            print(out.splitlines()[-1], flush=True)
            rates[loop].append(
                float(re.search(r'([\d.]+) images/s', out).group(1)))
    ratios = sorted(m / r for m, r in zip(rates['mmwsss'],
                                          rates['reference']))
    print(f'mmwsss / reference throughput: median '
          f'{statistics.median(ratios):.2f}x over {repeats} pairs '
          f'(range {ratios[0]:.2f}-{ratios[-1]:.2f})')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config',
                        default='configs/pnoc/pnoc_tiny_synthetic.py')
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--crop', type=int, default=64)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', action='store_true',
                        help='AmpOptimWrapper for every network (CUDA)')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--loop', default='mmwsss',
                        choices=('mmwsss', 'reference', 'both'),
                        help='mmwsss train_step, the reference-style loop '
                        '(P-NOC configs), or both in separate processes')
    parser.add_argument('--repeats', type=int, default=3,
                        help='--loop both: alternating runs of each loop')
    args = parser.parse_args()
    if args.loop == 'both':
        argv = sys.argv[1:]
        for flag in ('--loop', '--repeats'):
            if flag in argv:
                i = argv.index(flag)
                del argv[i:i + 2]
        run_both([a for a in argv if not a.startswith(('--loop=',
                                                       '--repeats='))],
                 args.repeats)
        return

    cfg = Config.fromfile(args.config)
    init_default_scope('mmwsss')
    if 'generator' in cfg.model:
        cfg.model.generator.pretrained = None
        cfg.model.noc_checkpoint = None
    else:
        cfg.model.pretrained = None
    cfg.model.data_preprocessor['size'] = (args.crop, args.crop)
    if args.amp:
        subs = [v for v in cfg.optim_wrapper.values() if isinstance(v, dict)
                and 'optimizer' in v] or [cfg.optim_wrapper]
        for sub in subs:
            sub['type'] = 'AmpOptimWrapper'
            sub['loss_scale'] = 'dynamic'
    model = MODELS.build(cfg.model).to(args.device).train()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optim = build_optim(cfg, model)
    num_classes = getattr(model, 'generator', model).num_classes

    def batch():
        inputs, samples = [], []
        for i in range(args.batch):
            inputs.append(torch.randint(0, 255, (3, args.crop, args.crop),
                                        dtype=torch.uint8))
            ds = SegDataSample(metainfo=dict(img_shape=(args.crop,) * 2))
            label = torch.zeros(num_classes)
            label[i % num_classes] = 1
            ds.set_data(dict(gt_label=label))
            samples.append(ds)
        return dict(inputs=inputs, data_samples=samples)

    total = args.steps + 2
    if args.loop == 'reference':
        if not hasattr(model, 'noc') or not model.train_noc:
            parser.error('--loop reference needs a P-NOC config')
        scalers = {name: torch.amp.GradScaler(args.device.split(':')[0])
                   for name in ('generator', 'noc')} if args.amp else {}

        def step(i: int, data: dict) -> None:
            reference_step(model, optim, data, i, total, scalers,
                           args.device)
    else:
        hub = MessageHub.get_current_instance()
        hub.update_info('max_iters', total)

        def step(i: int, data: dict) -> None:
            hub.update_info('iter', i)
            model.train_step(data, optim)

    data = batch()
    for i in range(2):  # warm-up
        step(i, data)
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for i in range(args.steps):
        step(i + 2, data)
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
        mem = f'peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB'
    else:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        mem = f'peak process RSS {rss:.0f} MiB'
    secs = time.perf_counter() - start
    print(f'{args.config} [{args.loop} loop]: '
          f'{args.batch * args.steps / secs:.1f} images/s '
          f'({secs / args.steps * 1000:.0f} ms/step, batch {args.batch}, '
          f'crop {args.crop}, device {args.device}, amp={args.amp}, '
          f'channels_last={args.channels_last}), {mem}')


if __name__ == '__main__':
    main()
