"""Random walk of stored CAMs over AffinityNet boundaries, one file per image.

    python tools/infer_rw.py CONFIG CHECKPOINT --cam-dir CAMS --out-dir RW \\
        [--split NAME] [--beta 10 --exp-times 8 --radius 5] \\
        [--method sparse|dense] [--normalize global|class] \\
        [--no-damp-edges] \\
        [--device cpu|cuda] [--overwrite] [--cfg-options k=v ...]
    bash tools/dist_infer_rw.sh CONFIG CHECKPOINT NPROC --cam-dir CAMS \\
        --out-dir RW ...

For every image of the config's test split (``--split`` picks a name of
``cfg.data_splits``): the stride-4 CAMs of ``{cam_dir}/{img_id}.npz`` (the
``cam_coarse`` maps CAM inference stores, made from every TTA scale as the
reference's ``cam``; files without them, e.g. of format version 1, fall
back to the reference's own fallback: the full-resolution maps resized
bilinearly to ``ceil(H/4)×ceil(W/4)``, with a warning), the
AffinityNet's ``predict_edges`` gives the boundary map, the random walk of
:mod:`mmwsss.models.affinity.random_walk` propagates the CAMs, and the result
is upsampled ×4, cropped to H×W, max-normalised (one maximum over all classes
by default) and saved as ``{out_dir}/{img_id}.npz`` in the CAM format of
:mod:`mmwsss.inference.cam_io`: ``tools/eval_cams.py`` and
``tools/make_pseudo_masks.py`` read it unchanged. Images without a class get
an empty (K=0) file.

Walk settings: flags, else ``cfg.rw_cfg`` (keys beta, exp_times, radius,
method, normalize, damp_edges), else P-NOC's defaults (β=10, 2^8 steps,
radius 5, sparse, global, damped by the edges). Resumable (existing
outputs are skipped), atomic writes;
with ``--launcher pytorch`` rank r of w takes images r, r+w, ...
"""
import argparse
import os
import os.path as osp
from typing import List, Optional, Tuple

import mmwsss  # noqa: F401  isort:skip
import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dist import get_dist_info, init_dist
from mmengine.registry import init_default_scope
from tqdm import tqdm

from mmwsss.compat import setup_cpu_distributed, teardown_distributed
from mmwsss.inference.cam_io import CAMData, cam_path, read_cam, save_cam
from mmwsss.models.affinity.random_walk import (NORMALIZE_MODES, RW_METHODS,
                                                random_walk,
                                                rw_to_full_resolution,
                                                stride4_size)
from mmwsss.models.utils.weights import load_model_checkpoint
from mmwsss.registry import DATASETS, MODELS
from mmwsss.utils.io import sample_id
from mmwsss.utils.tool_utils import (check_checkpoint, ensure_dir,
                                     inference_arg_parser, load_config,
                                     select_split)

RW_DEFAULTS = dict(
    beta=10.0, exp_times=8, radius=5, method='sparse', normalize='global',
    damp_edges=True)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = inference_arg_parser(
        'Random walk of CAMs over AffinityNet boundaries (CONFIG and '
        'CHECKPOINT: an AffinityNet)',
        'folder of the walked maps (CAM format)', work_dir=False)
    parser.add_argument('--cam-dir', required=True, help='folder of CAMs')
    parser.add_argument('--beta', type=float, help='affinity exponent (10)')
    parser.add_argument('--exp-times', type=int,
                        help='walk length 2^exp_times (8)')
    parser.add_argument('--radius', type=int, help='search radius (5)')
    parser.add_argument('--method', choices=RW_METHODS,
                        help='sparse (default) or the dense reference')
    parser.add_argument(
        '--normalize', choices=[m for m in NORMALIZE_MODES if m != 'none'],
        help='global: one max over all classes (reference); class: per map')
    parser.add_argument(
        '--damp-edges', action=argparse.BooleanOptionalAction,
        help='start the walk from CAMs x (1 - edge) (reference, default) '
        'or, with --no-damp-edges, from the CAMs themselves')
    parser.add_argument('--device', help='cpu, cuda or cuda:N (default: '
                        'cuda when available)')
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def walk_settings(args: argparse.Namespace, cfg: Config) -> dict:
    """Flags over ``cfg.rw_cfg`` over :data:`RW_DEFAULTS`."""
    from_cfg = dict(cfg.get('rw_cfg') or {})
    unknown = set(from_cfg) - set(RW_DEFAULTS)
    if unknown:
        raise KeyError(f'unknown rw_cfg keys {sorted(unknown)} in the config; '
                       f'valid: {sorted(RW_DEFAULTS)}')
    settings = {**RW_DEFAULTS, **from_cfg}
    for key in RW_DEFAULTS:
        value = getattr(args, key)
        if value is not None:
            settings[key] = value
    if settings['method'] not in RW_METHODS or settings['normalize'] not in (
            'global', 'class'):
        raise ValueError(f'rw_cfg: method must be one of {RW_METHODS} and '
                         "normalize 'global' or 'class' (saved maps must lie "
                         f'in [0, 1]), got {settings}')
    return settings


def start_distributed(cfg: Config, launcher: str,
                      device: torch.device) -> bool:
    """Join the process group; True when this tool started it."""
    if launcher == 'none' or dist.is_initialized():
        return False
    if device.type == 'cpu' and launcher == 'pytorch':
        return setup_cpu_distributed(cfg, launcher) or _init_gloo()
    init_dist(launcher, backend='nccl' if device.type == 'cuda' else 'gloo')
    return True


def _init_gloo() -> bool:
    """CPU walk on a CUDA machine: a gloo group (setup_cpu_distributed
    leaves CUDA machines to mmengine)."""
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    return True


class RandomWalker:
    """Boundary map + random walk of one image; holds the model."""

    def __init__(self, model: torch.nn.Module, device: torch.device,
                 settings: dict) -> None:
        self.model = model
        self.device = device
        self.settings = settings
        self.warned = False

    @torch.no_grad()
    def __call__(self, sample: dict, cam: CAMData,
                 cam_file: str) -> torch.Tensor:
        """Walked ``(K, H, W)`` maps in [0, 1] for one packed sample."""
        image = sample['inputs']
        height, width = image.shape[-2:]
        if tuple(cam.cams.shape[-2:]) != (height, width):
            raise ValueError(
                f'{cam_file}: CAM size {tuple(cam.cams.shape[-2:])} != image '
                f'size {(height, width)} of '
                f'{sample["data_samples"].img_path}; were the CAMs inferred '
                'for this data set?')
        size4 = stride4_size((height, width))
        if cam.cams.shape[0] == 0:
            return torch.zeros((0, height, width))
        data = self.model.data_preprocessor(
            dict(inputs=[image], data_samples=[sample['data_samples']]),
            False)
        edges = self.model.predict_edges(data['inputs'].to(self.device))
        if edges.dim() != 4 or edges.shape[-2] < size4[0] \
                or edges.shape[-1] < size4[1]:
            raise ValueError(
                f'{type(self.model).__name__}.predict_edges returned '
                f'{tuple(edges.shape)} for a {(height, width)} image; '
                f'expected (1, 1, >={size4[0]}, >={size4[1]})')
        edge = edges[0, 0, :size4[0], :size4[1]].float()
        cams4 = self.stride4_cams(cam, size4, cam_file).to(self.device)
        s = self.settings
        walked = random_walk(cams4, edge, beta=s['beta'],
                             exp_times=s['exp_times'], radius=s['radius'],
                             method=s['method'],
                             damp_edges=bool(s['damp_edges']))
        return rw_to_full_resolution(
            walked, (height, width), normalize=s['normalize']).cpu()

    def stride4_cams(self, cam: CAMData, size4: Tuple[int, int],
                     cam_file: str) -> torch.Tensor:
        """The stored stride-4 CAMs, else the full-resolution ones resized
        to ``size4`` (the reference's fallback; warned once)."""
        if cam.coarse is not None and cam.coarse_stride == 4:
            return torch.from_numpy(cam.coarse)
        if not self.warned:
            self.warned = True
            print(f'warning: {cam_file} has no stride-4 CAMs (CAM format '
                  'version 1, or test_cfg.coarse_stride != 4); resizing the '
                  'full-resolution CAMs instead, which places cells up to '
                  '3/4 of a cell off the reference grid. Re-run '
                  'tools/infer_cams.py to store them.', flush=True)
        return F.interpolate(
            torch.from_numpy(cam.cams)[None], size=size4, mode='bilinear',
            align_corners=False)[0]


def build_model(cfg: Config, checkpoint: str,
                device: torch.device) -> torch.nn.Module:
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'predict_edges'):
        raise TypeError(f'{type(model).__name__} (cfg.model) has no '
                        'predict_edges(); pass an AffinityNet config')
    load_model_checkpoint(model, checkpoint, 'CHECKPOINT')
    return model.to(device).eval()


def shard(ids: List[Tuple[int, str]], out_dir: str, overwrite: bool
          ) -> Tuple[List[Tuple[int, str]], int]:
    """This rank's images (r, r+w, ... of the whole split) still to do,
    and how many of its share already exist."""
    rank, world = get_dist_info()
    mine = ids[rank::world]
    todo = [(i, img_id) for i, img_id in mine
            if overwrite or not osp.exists(cam_path(out_dir, img_id))]
    return todo, len(mine) - len(todo)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    check_checkpoint(args.checkpoint)
    if not osp.isdir(args.cam_dir):
        raise FileNotFoundError(f'CAM folder "{args.cam_dir}" does not exist; '
                                'run tools/infer_cams.py first')
    cfg = load_config(args.config, args.cfg_options)
    select_split(cfg, args.split)
    settings = walk_settings(args, cfg)
    init_default_scope(cfg.get('default_scope', 'mmwsss'))
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    own_pg = start_distributed(cfg, args.launcher, device)
    if device.type == 'cuda' and device.index is None:
        device = torch.device('cuda', torch.cuda.current_device())
    ensure_dir(args.out_dir)

    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.pop('indices', None)
    dataset = DATASETS.build(dataset_cfg)
    ids = [(i, sample_id(dataset.get_data_info(i)))
           for i in range(len(dataset))]
    todo, done = shard(ids, args.out_dir, args.overwrite)
    rank, world = get_dist_info()
    # print, not the logger: mmengine's logger hides ranks > 0
    print(f'rank {rank}/{world}: {done} of {done + len(todo)} images already '
          f'walked in {args.out_dir}; {len(todo)} to do (settings {settings}, '
          f'device {device})', flush=True)

    if todo:
        walker = RandomWalker(build_model(cfg, args.checkpoint, device),
                              device, settings)
        for index, img_id in tqdm(todo, desc=f'random walk [rank {rank}]',
                                  position=rank, dynamic_ncols=True):
            cam_file = cam_path(args.cam_dir, img_id)
            cam = read_cam(cam_file)
            walked = walker(dataset[index], cam, cam_file)
            save_cam(cam_path(args.out_dir, img_id), walked, cam.keys)

    teardown_distributed(own_pg)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
