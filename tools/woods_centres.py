"""Compute W-OoD's fixed centres with a trained CAM classifier.

    python tools/woods_centres.py CONFIG CHECKPOINT --out centres.pth \\
        [--ood-root DIR [--ood-list ood_list.txt] [--ood-img-dir JPEGImages]]
        [--ood-long-side 500] [--split NAME] [--num-clusters 50] [--seed 0]
        [--iters 10] [--device cuda] [--num-workers 2] [--cfg-options ...]

Class centres: the mean GAP feature of each class over the training images
(the config's ``train_dataloader`` data set, or ``--split NAME`` of its
``data_splits``), run through the config's *test* pipeline (no
augmentation). OoD centres: K-means (k-means++ seeded with ``--seed`` on a
canonical order, ``--iters`` Lloyd updates; see
:mod:`mmwsss.models.utils.kmeans`) over the GAP features of the OoD images:
``--ood-root`` (layout of :class:`mmwsss.datasets.OoDDataset`, e.g.
``data/synthetic/OoD`` from ``tools/generate_synthetic.py --num-ood``) or
the config's ``ood_dataset``. The reference resizes OoD images to a long
side of 500 (``--ood-long-side 500``) and keeps the training images at
their size.

The file (format: :mod:`mmwsss.inference.woods_centres`) is written
atomically; ``WOoDCentresHook(centres_file=...)`` puts it into the W-OoD
model before training. Without a file the hook computes the same centres
in-process with the same function
(:func:`mmwsss.inference.features.woods_centres_from_config`).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

import mmwsss  # noqa: F401  isort:skip
from mmwsss.inference.woods_centres import save_centres
from mmwsss.utils.errors import USER_ERRORS
from mmwsss.apis.tool_utils import (add_cfg_options, check_checkpoint,
                                    load_config, report_error)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Compute the class and OoD centres of W-OoD')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='trained CAM classifier')
    parser.add_argument('--out', required=True, help='centres file (.pth)')
    parser.add_argument('--split', help="a name in the config's data_splits "
                        '(default: the train_dataloader data set)')
    parser.add_argument('--ood-root', help='OoD data root (default: the '
                        "config's ood_dataset)")
    parser.add_argument('--ood-list', default='ood_list.txt',
                        help='OoD list file, relative to --ood-root')
    parser.add_argument('--ood-img-dir', default='JPEGImages',
                        help='OoD image folder, relative to --ood-root')
    parser.add_argument('--ood-long-side', type=int,
                        help='resize OoD images to this long side '
                        '(reference: 500; default: keep their size)')
    parser.add_argument('--num-clusters', type=int, default=50,
                        help='K of K-means (default 50)')
    parser.add_argument('--seed', type=int, default=0,
                        help='k-means++ seed (default 0)')
    parser.add_argument('--iters', type=int, default=10,
                        help='most Lloyd iterations (default 10)')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda, cuda:1 ... (default: cuda if '
                        'available)')
    parser.add_argument('--num-workers', type=int, default=0,
                        help='data loading workers')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import torch
    from mmengine.registry import init_default_scope

    from mmwsss.inference.features import woods_centres_from_config
    from mmwsss.registry import MODELS
    from mmwsss.apis.tool_utils import load_inference_weights

    try:
        check_checkpoint(args.checkpoint)
        cfg = load_config(args.config, args.cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmwsss'))
        device = args.device or ('cuda'
                                 if torch.cuda.is_available() else 'cpu')
        model = MODELS.build(cfg.model)
        load_inference_weights(model, args.checkpoint)
        model.to(device)
        result, meta = woods_centres_from_config(
            model, cfg, split=args.split, ood_root=args.ood_root,
            ood_list=args.ood_list, ood_img_dir=args.ood_img_dir,
            ood_long_side=args.ood_long_side,
            num_clusters=args.num_clusters, seed=args.seed,
            max_iters=args.iters, num_workers=args.num_workers,
            progress=True)
    except (*USER_ERRORS, KeyError, ValueError) as err:
        return report_error(err)
    meta.update(config=osp.abspath(args.config),
                checkpoint=osp.abspath(args.checkpoint))
    clusters = result.clusters
    save_centres(args.out, result.class_centres, clusters.centres, meta)
    print(f'{args.out}: {len(meta["classes"])} class centres, '
          f'{args.num_clusters} OoD centres of dimension '
          f'{clusters.centres.shape[1]} ({result.num_ood_images} OoD '
          f'images, {clusters.iterations} Lloyd iterations)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
