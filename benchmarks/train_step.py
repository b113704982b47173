"""Benchmark one training step of a CAM trainer (P-NOC by default).

    python benchmarks/train_step.py [--config configs/pnoc/pnoc_tiny_synthetic.py]
        [--batch 16] [--crop 64] [--steps 10] [--device cpu|cuda] [--amp]
        [--channels-last]

Builds the config's model and optimizers (random weights, no checkpoint
files read), runs ``train_step`` on random images and prints images/s and
peak memory. Per step P-NOC runs the generator on the image and on its
puzzle tiles, the noc on the soft-erased image (generator update) and on
the hard-erased image (noc update) — the reference's four forwards, with no
extra forward, recomputation or host synchronisation.
"""
import argparse
import resource
import time

import mmwsss  # noqa: F401  isort:skip
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from mmwsss.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS


def build_optim(cfg: Config, model):
    ow_cfg = cfg.optim_wrapper.to_dict()
    constructor = ow_cfg.pop('constructor', 'DefaultOptimWrapperConstructor')
    paramwise = ow_cfg.pop('paramwise_cfg', None)
    return OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type=constructor, optim_wrapper_cfg=ow_cfg,
             paramwise_cfg=paramwise))(model)


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
    args = parser.parse_args()

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

    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', args.steps + 2)
    data = batch()
    for i in range(2):  # warm-up
        hub.update_info('iter', i)
        model.train_step(data, optim)
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for i in range(args.steps):
        hub.update_info('iter', i + 2)
        model.train_step(data, optim)
    if args.device.startswith('cuda'):
        torch.cuda.synchronize()
        mem = f'peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB'
    else:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        mem = f'peak process RSS {rss:.0f} MiB'
    secs = time.perf_counter() - start
    print(f'{args.config}: {args.batch * args.steps / secs:.1f} images/s '
          f'({secs / args.steps * 1000:.0f} ms/step, batch {args.batch}, '
          f'crop {args.crop}, device {args.device}, amp={args.amp}, '
          f'channels_last={args.channels_last}), {mem}')


if __name__ == '__main__':
    main()
