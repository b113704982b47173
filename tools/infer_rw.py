"""Random walk of stored CAMs over AffinityNet boundaries, one file per image.

    python tools/infer_rw.py CONFIG CHECKPOINT --cam-dir CAMS --out-dir RW \\
        [--split NAME] [--beta 10 --exp-times 8 --radius 5] \\
        [--method sparse|dense] [--normalize global|class] \\
        [--damp-edges | --no-damp-edges] [--work-dir DIR] \\
        [--overwrite] [--cfg-options k=v ...]
    bash tools/dist_infer_rw.sh CONFIG CHECKPOINT NPROC --cam-dir CAMS \\
        --out-dir RW ...

The same path as ``tools/infer_cams.py``: mmengine's Runner runs the
AffinityNet (CONFIG, CHECKPOINT) over the config's test split (``--split``
picks a name of ``cfg.data_splits``). The test pipeline
(``configs/_base_/datasets/rw_cams.py``) loads each image's CAM file from
``--cam-dir`` (``LoadCAMs``: the stride-4 ``cam_coarse`` maps CAM inference
stores; files without them, e.g. of format version 1, fall back to the
full-resolution maps resized bilinearly, with one warning),
``AffinityNet.predict`` walks them over the boundary map and ``CAMWriter``
saves the maps as ``{out_dir}/{img_id}.npz`` in the CAM format of
:mod:`mmwsss.utils.cam_io`: ``tools/eval_cams.py`` and
``tools/make_pseudo_masks.py`` read it unchanged. Images without a class get
an empty (K=0) file.

Walk settings: ``model.test_cfg`` of the config (keys beta, exp_times,
radius, method, normalize, damp_edges, cam_power; defaults: the reference's, in
``mmwsss.models.affinity.affinitynet.DEFAULT_TEST_CFG``); each flag given
here is the option ``model.test_cfg.KEY``. Resumable (existing outputs are
skipped), atomic writes; distributed launches shard the images (the
Runner's sampler). On a CUDA machine, ``CUDA_VISIBLE_DEVICES=-1`` runs on
the CPU.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

import mmwsss  # noqa: F401  isort:skip
from mmengine.config import Config

from mmwsss.apis.tool_utils import (infer_maps, inference_arg_parser,
                                    set_pipeline_option)
from mmwsss.models.affinity.affinitynet import SAVED_NORMALIZE
from mmwsss.models.affinity.random_walk import RW_METHODS
from mmwsss.utils.cam_io import cam_path
from mmwsss.utils.errors import ConfigError

#: Flags that set ``model.test_cfg.{name}``.
WALK_FLAGS = ('beta', 'exp_times', 'radius', 'method', 'normalize',
              'damp_edges', 'cam_power')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = inference_arg_parser(
        'Random walk of CAMs over AffinityNet boundaries (CONFIG and '
        'CHECKPOINT: an AffinityNet)',
        'folder of the walked maps (CAM format)')
    parser.add_argument('--cam-dir', required=True, help='folder of CAMs')
    parser.add_argument('--beta', type=float, help='affinity exponent (10)')
    parser.add_argument('--exp-times', type=int,
                        help='walk length 2^exp_times (8)')
    parser.add_argument('--radius', type=int, help='search radius (5)')
    parser.add_argument('--method', choices=RW_METHODS,
                        help='sparse (default) or the dense reference')
    parser.add_argument(
        '--normalize', choices=SAVED_NORMALIZE,
        help='global: one max over all classes (reference); class: per map')
    parser.add_argument(
        '--damp-edges', action=argparse.BooleanOptionalAction,
        help='start the walk from CAMs x (1 - edge) (reference, default) '
        'or, with --no-damp-edges, from the CAMs themselves')
    parser.add_argument(
        '--cam-power', type=float,
        help='walk CAMs ** cam_power (1 = P-NOC, default; IRN/W-OoD: 1.5)')
    args = parser.parse_args(argv)
    args.cfg_options = {**(args.cfg_options or {}), **walk_options(args)}
    return args


def walk_options(args: argparse.Namespace) -> dict:
    """``model.test_cfg.KEY: value`` of the walk flags given."""
    return {
        f'model.test_cfg.{key}': getattr(args, key)
        for key in WALK_FLAGS if getattr(args, key) is not None
    }


def use_cam_dir(cfg: Config, cam_dir: str) -> None:
    """Point the test pipeline's ``LoadCAMs`` at ``cam_dir``."""
    if not osp.isdir(cam_dir):
        raise FileNotFoundError(f'CAM folder "{cam_dir}" does not exist; '
                                'run tools/infer_cams.py first')
    try:
        set_pipeline_option(cfg, 'LoadCAMs', 'cam_dir', cam_dir)
    except ConfigError as err:
        raise ConfigError(
            f'{err}: CONFIG must be an AffinityNet config whose test '
            'pipeline loads the CAMs (configs/_base_/datasets/rw_cams.py)'
        ) from err


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return infer_maps(args, 'mmwsss.CAMWriter',
                      lambda img_id: cam_path(args.out_dir, img_id),
                      'random-walk',
                      prepare=lambda cfg: use_cam_dir(cfg, args.cam_dir))


if __name__ == '__main__':
    sys.exit(main())
