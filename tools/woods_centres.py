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
atomically; the W-OoD model reads it before training.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

import mmwsss  # noqa: F401  isort:skip
from mmwsss.apis.tool_utils import (add_cfg_options, check_checkpoint,
                                    load_config, report_error, select_split)
from mmwsss.inference.woods_centres import save_centres
from mmwsss.utils.errors import USER_ERRORS, ConfigError


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


def eval_pipeline(cfg) -> list:
    """The config's test pipeline (no augmentation)."""
    pipeline = (cfg.get('test_dataloader') or {}).get('dataset', {}).get(
        'pipeline')
    if not pipeline:
        raise ConfigError('the config has no test_dataloader.dataset.'
                          'pipeline (the un-augmented pipeline the features '
                          'are computed with)')
    return [dict(t) for t in pipeline]


def train_dataset_cfg(cfg, split: Optional[str]) -> dict:
    """The training images with the test pipeline."""
    if split is not None:
        select_split(cfg, split)
        dataset = dict(cfg.test_dataloader.dataset)
    else:
        dataset = dict(cfg.train_dataloader.dataset)
    dataset['pipeline'] = eval_pipeline(cfg)
    return dataset


def ood_dataset_cfg(cfg, args: argparse.Namespace, metainfo: dict) -> dict:
    """The OoD images with the test pipeline (optionally resized)."""
    if args.ood_root is not None:
        dataset = dict(type='OoDDataset', data_root=args.ood_root,
                       ann_file=args.ood_list,
                       data_prefix=dict(img_path=args.ood_img_dir))
    elif cfg.get('ood_dataset'):
        dataset = dict(cfg.ood_dataset)
    else:
        raise ConfigError('no OoD images: give --ood-root DIR (with '
                          'JPEGImages/ and ood_list.txt, e.g. from '
                          '`tools/generate_synthetic.py OUT --num-ood N`) or '
                          'set ood_dataset in the config')
    dataset.setdefault('metainfo', dict(classes=metainfo['classes']))
    pipeline = eval_pipeline(cfg)
    if args.ood_long_side:
        side = int(args.ood_long_side)
        pipeline.insert(1, dict(type='RandomResizeLongSide', min_size=side,
                                max_size=side))
    dataset['pipeline'] = pipeline
    return dataset


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import torch
    from mmengine.registry import init_default_scope

    from mmwsss.apis.tool_utils import load_inference_weights
    from mmwsss.inference.features import compute_woods_centres
    from mmwsss.registry import DATASETS, MODELS

    try:
        if args.num_clusters < 1 or args.iters < 0:
            raise ConfigError('--num-clusters must be >= 1 and --iters >= 0')
        check_checkpoint(args.checkpoint)
        cfg = load_config(args.config, args.cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmwsss'))
        train_set = DATASETS.build(train_dataset_cfg(cfg, args.split))
        ood_set = DATASETS.build(
            ood_dataset_cfg(cfg, args, train_set.metainfo))
        device = args.device or ('cuda'
                                 if torch.cuda.is_available() else 'cpu')
        model = MODELS.build(cfg.model)
        load_inference_weights(model, args.checkpoint)
        model.to(device)
        classes = tuple(train_set.metainfo['classes'])[1:]
        result = compute_woods_centres(
            model, train_set, ood_set, num_clusters=args.num_clusters,
            seed=args.seed, max_iters=args.iters, class_names=classes,
            num_workers=args.num_workers, progress=True)
    except (*USER_ERRORS, KeyError, ValueError) as err:
        return report_error(err)
    clusters = result.clusters
    meta = dict(
        num_clusters=args.num_clusters,
        seed=args.seed,
        max_iters=args.iters,
        iterations=clusters.iterations,
        inertia=clusters.inertia,
        kmeans_init='k-means++ on the lexicographically sorted features',
        classes=list(classes),
        class_image_counts=result.class_counts.tolist(),
        num_ood_images=result.num_ood_images,
        config=osp.abspath(args.config),
        checkpoint=osp.abspath(args.checkpoint),
        split=args.split or 'train_dataloader',
        ood_root=args.ood_root,
        ood_long_side=args.ood_long_side)
    save_centres(args.out, result.class_centres, clusters.centres, meta)
    print(f'{args.out}: {len(classes)} class centres, {args.num_clusters} '
          f'OoD centres of dimension {clusters.centres.shape[1]} '
          f'({result.num_ood_images} OoD images, {clusters.iterations} '
          'Lloyd iterations)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
