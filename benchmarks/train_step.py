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
``train_pnoc.py`` step with torch alone (explicit backward / step /
zero_grad per network, a GradScaler each under AMP; none of mmwsss's
losses, erasing or wrappers) over the same networks, optimizers and inputs, so the mmengine ``train_step`` can be compared with
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
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from mmwsss.apis.tool_utils import enable_amp
from mmwsss.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS


def build_optim(cfg: Config, model):
    ow_cfg = cfg.optim_wrapper.to_dict()
    constructor = ow_cfg.pop('constructor', 'DefaultOptimWrapperConstructor')
    paramwise = ow_cfg.pop('paramwise_cfg', None)
    return OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=constructor, optim_wrapper_cfg=ow_cfg,
             paramwise_cfg=paramwise))(model)


# ---------------------------------------------------------------------------
# The reference loop, written from the reference ``train_pnoc.py`` step
# (README, "Puzzle-CAM, OC-CSE, P-OC and P-NOC") with plain torch only: it
# uses none of mmwsss's losses, tiling, erasing, schedules or optimizer
# wrappers, so a mistake in those shows up as a difference between the two
# loops. Only the networks (and their data preprocessor) are shared.


def _smooth(y: torch.Tensor, alpha: float = 0.1) -> torch.Tensor:
    """Label smoothing of the reference: positives 0.95, negatives 0.05."""
    return y * (1 - alpha) + alpha / 2


def _cls_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.multilabel_soft_margin_loss(logits, _smooth(y))


def _ramp(step: int, total: int, start: float, end: float,
          fraction: float) -> float:
    """``start → end`` over the first ``fraction`` of ``total`` steps."""
    return start + (end - start) * min(step / (fraction * total), 1.0)


def _four_tiles(x: torch.Tensor) -> torch.Tensor:
    """2×2 tiles stacked on the batch axis: TL, TR, BL, BR."""
    h, w = x.shape[-2] // 2, x.shape[-1] // 2
    return torch.cat([x[..., :h, :w], x[..., :h, w:], x[..., h:, :w],
                      x[..., h:, w:]])


def _untile(t: torch.Tensor) -> torch.Tensor:
    tl, tr, bl, br = t.chunk(4)
    return torch.cat([torch.cat([tl, tr], 3), torch.cat([bl, br], 3)], 2)


def _pick_class(y: torch.Tensor) -> torch.Tensor:
    """Index of one positive class per sample, uniformly. It draws the
    same random numbers as mmwsss's sampler (one uniform per class), so
    both loops erase the same class; every sample needs a positive."""
    scores = torch.rand(y.shape).to(y.device)
    scores[y <= 0.5] = -1.0
    assert (scores.max(dim=1).values >= 0).all(), 'a sample has no class'
    return scores.argmax(dim=1)


def _class_map(cams: torch.Tensor, r: torch.Tensor, size, per_sample: bool
               ) -> torch.Tensor:
    """ReLU'd CAM of class r, bilinear to the image, divided by its max
    (one max over the batch, or one per sample) + 1e-5."""
    m = F.relu(cams[torch.arange(len(r)), r])[:, None]
    m = F.interpolate(m, size=tuple(size), mode='bilinear',
                      align_corners=False)
    peak = m.amax(dim=(1, 2, 3), keepdim=True) if per_sample else m.max()
    return m / (peak + 1e-5)


def reference_step(model, optimizers: dict, data: dict, step: int,
                   total: int, accum: int, scalers: dict,
                   device: str) -> None:
    """One P-NOC micro-step of the reference loop: generator losses →
    backward → step every ``accum`` micro-steps (gradients summed); the
    hard-erased image → noc loss → backward → step. The noc's parameters
    are in the generator's graph, so its CSE gradient reaches the noc
    update, as in the reference."""
    data = model.data_preprocessor(data, True)
    x = data['inputs']
    y = torch.stack([ds.gt_label for ds in data['data_samples']]).to(x)
    amp = dict(device_type=device.split(':')[0], enabled=bool(scalers))
    with torch.autocast(**amp):
        logits, cams = model.generator(x, mode='tensor')
        _, tile_cams = model.generator(_four_tiles(x), mode='tensor')
        merged = _untile(tile_cams)
        loss = (_cls_loss(logits, y) + _cls_loss(merged.mean(dim=(2, 3)), y)
                + _ramp(step, total, 0.0, 4.0, 0.5) *
                ((cams - merged).abs() * y[:, :, None, None]).mean())
        r = _pick_class(y)
        soft = x * (1 - _class_map(cams, r, x.shape[-2:], False))
        y_rest = (y - F.one_hot(r, y.shape[1]).to(y)).clamp(min=0)
        loss = loss + _ramp(step, total, 0.3, 1.0, 1.0) * _cls_loss(
            model.noc(soft, mode='tensor')[0], y_rest)
    _backward_step('generator', optimizers, loss, step, accum, scalers)
    with torch.autocast(**amp):
        with torch.no_grad():
            keep = _class_map(cams.detach(), r, x.shape[-2:], True) <= 0.2
        hard = (x * keep).detach()
        loss_noc = _ramp(step, total, 0.0, 1.0, 1.0) * _cls_loss(
            model.noc(hard, mode='tensor')[0], y)
    _backward_step('noc', optimizers, loss_noc, step, accum, scalers)


def _backward_step(name: str, optimizers: dict, loss: torch.Tensor,
                   step: int, accum: int, scalers: dict) -> None:
    """backward every micro-step; step + zero_grad every ``accum`` (the
    reference's unscaled sum of micro-batch gradients)."""
    opt = optimizers[name]
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
                [sys.executable, __file__, *argv, '--loop', loop,
                 '--reference-settings'],
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
    parser.add_argument('--reference-settings', action='store_true',
                        help='P-NOC at the reference\'s erasing settings '
                        '(mask_align resize, the config\'s other values '
                        'checked): what the reference loop implements, so '
                        'both loops do the same work (set by --loop both '
                        'and --loop reference)')
    args = parser.parse_args()
    if args.loop == 'reference':
        args.reference_settings = True
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
        for key in ('noc_checkpoint', 'oc_checkpoint'):
            cfg.model.pop(key, None)
        if args.reference_settings:
            cfg.model.mask_align = 'resize'
    else:
        cfg.model.pretrained = None
    cfg.model.data_preprocessor['size'] = (args.crop, args.crop)
    if args.amp:
        enable_amp(cfg)
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
        reference = dict(puzzle=True, cse=True, noc_interval=1,
                         noc_threshold=0.2, erase_rule='code',
                         soft_mask_global_norm=True,
                         hard_mask_global_norm=False, mask_align='resize',
                         noc_receives_cse_grad=True)
        differ = {k: getattr(model, k) for k, v in reference.items()
                  if getattr(model, k) != v}
        if getattr(model.loss_cls, 'label_smoothing', None) != 0.1:
            differ['loss.label_smoothing'] = getattr(
                model.loss_cls, 'label_smoothing', None)
        if differ:
            parser.error(f'the reference loop implements {reference}; '
                         f'the config sets {differ}')
        scalers = {name: torch.amp.GradScaler(args.device.split(':')[0])
                   for name in ('generator', 'noc')} if args.amp else {}

        optimizers = {name: optim[name].optimizer
                      for name in ('generator', 'noc')}
        accum = cfg.optim_wrapper.generator.get('accumulative_counts', 1)

        def step(i: int, data: dict) -> None:
            reference_step(model, optimizers, data, i, total, accum,
                           scalers, args.device)
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
