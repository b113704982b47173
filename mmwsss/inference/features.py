"""GAP features of a trained CAM classifier over a data set, and W-OoD's
centres computed from them, from a config's data sets: the one
implementation behind ``tools/woods_centres.py`` and ``WOoDCentresHook``."""
import copy
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from mmwsss.models.utils import class_centres, gap_features, kmeans
from mmwsss.models.utils.kmeans import KMeansResult
from mmwsss.utils.errors import ConfigError
from mmwsss.utils.options import select_split


class WOoDCentresResult(NamedTuple):
    """Output of :func:`compute_woods_centres`."""
    class_centres: torch.Tensor  # C x D float64
    class_counts: torch.Tensor  # C: labelled images per class
    clusters: KMeansResult  # K-means of the OoD features
    num_ood_images: int


def feature_net(model: nn.Module) -> nn.Module:
    """The classifier whose ``extract_feat`` gives the features: the model,
    or its inference network (P-NOC's generator or EMA)."""
    net = model.inference_net() if hasattr(model, 'inference_net') else model
    if not hasattr(net, 'extract_feat'):
        raise ConfigError(
            f'{type(net).__name__} has no extract_feat(inputs); W-OoD '
            'centres need a CAM classifier (CAMClassifier, P-NOC)')
    return net


@torch.no_grad()
def extract_gap_features(model: nn.Module,
                         dataset: Dataset,
                         batch_size: int = 1,
                         num_workers: int = 0,
                         desc: Optional[str] = None
                         ) -> Tuple[torch.Tensor, torch.Tensor, List[str]]:
    """``GAP(extract_feat(x))`` of every image of ``dataset`` (its pipeline
    as given: use a test pipeline, no augmentation).

    Each image is pooled over its own cells (:func:`gap_features`), so
    padding a batch does not change its feature.

    Args:
        model: a CAM classifier (or a model with ``inference_net()``) whose
            ``data_preprocessor`` normalises the packed inputs; it is put
            in eval mode.
        dataset: yields ``PackWSSSInputs`` samples.
        desc: text of a progress bar (None: no bar).

    Returns:
        (N x D float32 features, N x C labels, image ids), on the CPU.
    """
    net = feature_net(model)
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False,
                        num_workers=num_workers, collate_fn=pseudo_collate)
    feats, labels, ids = [], [], []
    for batch in tqdm(loader, desc=desc, disable=desc is None,
                      dynamic_ncols=True):
        data = model.data_preprocessor(batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        shapes = [s.metainfo.get('img_shape', inputs.shape[-2:])[:2]
                  for s in samples]
        maps = net.extract_feat(inputs)
        feats.append(gap_features(maps, inputs.shape[-2:], shapes).float()
                     .cpu())
        labels += [s.gt_label.float().cpu() for s in samples]
        ids += [str(s.metainfo.get('img_id', '')) for s in samples]
    return torch.cat(feats), torch.stack(labels), ids


def compute_woods_centres(model: nn.Module,
                          train_dataset: Dataset,
                          ood_dataset: Dataset,
                          num_clusters: int = 50,
                          seed: int = 0,
                          max_iters: int = 10,
                          class_names: Optional[Sequence[str]] = None,
                          num_workers: int = 0,
                          progress: bool = False) -> WOoDCentresResult:
    """Class centres over ``train_dataset`` and K-means centres over
    ``ood_dataset`` (README: W-OoD: centres; both with test pipelines).

    Raises:
        DataError: a class has no labelled image.
        ConfigError: fewer OoD images than ``num_clusters``.
    """
    feats, labels, _ = extract_gap_features(
        model, train_dataset, num_workers=num_workers,
        desc='train features' if progress else None)
    centres, counts = class_centres(feats, labels, class_names)
    ood_feats, _, _ = extract_gap_features(
        model, ood_dataset, num_workers=num_workers,
        desc='OoD features' if progress else None)
    if len(ood_feats) < num_clusters:
        raise ConfigError(
            f'{len(ood_feats)} OoD images cannot make {num_clusters} '
            'clusters; add OoD images or lower the number of clusters')
    clusters = kmeans(ood_feats, num_clusters, max_iters=max_iters,
                      seed=seed)
    return WOoDCentresResult(centres, counts, clusters, len(ood_feats))


# ------------------------------------------------------------ from a config
def eval_pipeline(cfg: Config) -> list:
    """The config's test pipeline (no augmentation): the features of the
    centres are computed with it."""
    pipeline = (cfg.get('test_dataloader') or {}).get('dataset', {}).get(
        'pipeline')
    if not pipeline:
        raise ConfigError('the config has no test_dataloader.dataset.'
                          'pipeline (the un-augmented pipeline the features '
                          'are computed with)')
    return [dict(t) for t in pipeline]


def train_dataset_cfg(cfg: Config, split: Optional[str] = None) -> dict:
    """The training images (``train_dataloader``'s data set, or ``split``
    of the config's ``data_splits``) with the test pipeline."""
    if split is not None:
        cfg = copy.deepcopy(cfg)
        select_split(cfg, split)
        dataset = dict(cfg.test_dataloader.dataset)
    else:
        dataset = dict(cfg.train_dataloader.dataset)
    dataset['pipeline'] = eval_pipeline(cfg)
    return dataset


def ood_dataset_cfg(cfg: Config, metainfo: dict,
                    ood_root: Optional[str] = None,
                    ood_list: str = 'ood_list.txt',
                    ood_img_dir: str = 'JPEGImages',
                    long_side: Optional[int] = None) -> dict:
    """The OoD images (``ood_root`` in :class:`OoDDataset` layout, else the
    config's ``ood_dataset``) with the test pipeline, optionally resized to
    a long side of ``long_side`` (the reference: 500)."""
    if ood_root is not None:
        dataset = dict(type='OoDDataset', data_root=ood_root,
                       ann_file=ood_list,
                       data_prefix=dict(img_path=ood_img_dir))
    elif cfg.get('ood_dataset'):
        dataset = dict(cfg.ood_dataset)
    else:
        raise ConfigError('no OoD images: give --ood-root DIR (with '
                          'JPEGImages/ and ood_list.txt, e.g. from '
                          '`tools/generate_synthetic.py OUT --num-ood N`) or '
                          'set ood_dataset in the config')
    dataset.setdefault('metainfo', dict(classes=metainfo['classes']))
    pipeline = eval_pipeline(cfg)
    if long_side:
        side = int(long_side)
        pipeline.insert(1, dict(type='RandomResizeLongSide', min_size=side,
                                max_size=side))
    dataset['pipeline'] = pipeline
    return dataset


def woods_centres_from_config(model: nn.Module,
                              cfg: Config,
                              split: Optional[str] = None,
                              ood_root: Optional[str] = None,
                              ood_list: str = 'ood_list.txt',
                              ood_img_dir: str = 'JPEGImages',
                              ood_long_side: Optional[int] = None,
                              num_clusters: int = 50,
                              seed: int = 0,
                              max_iters: int = 10,
                              num_workers: int = 0,
                              progress: bool = False
                              ) -> Tuple[WOoDCentresResult, dict]:
    """W-OoD's centres of ``model`` over the data sets of ``cfg`` (see
    :func:`train_dataset_cfg`, :func:`ood_dataset_cfg`): the one
    implementation behind ``tools/woods_centres.py`` and
    ``WOoDCentresHook``. ``cfg`` is not modified; the default scope must be
    set (the datasets are built from the registry).

    Returns:
        (the centres, the metadata a centres file records about them).
    """
    from mmwsss.registry import DATASETS
    if num_clusters < 1 or max_iters < 0:
        raise ConfigError(f'the number of clusters must be >= 1 and the '
                          f'Lloyd iterations >= 0, got {num_clusters} and '
                          f'{max_iters}')
    train_set = DATASETS.build(train_dataset_cfg(cfg, split))
    ood_set = DATASETS.build(
        ood_dataset_cfg(cfg, train_set.metainfo, ood_root, ood_list,
                        ood_img_dir, ood_long_side))
    classes = tuple(train_set.metainfo['classes'])[1:]
    result = compute_woods_centres(
        model, train_set, ood_set, num_clusters=num_clusters, seed=seed,
        max_iters=max_iters, class_names=classes, num_workers=num_workers,
        progress=progress)
    clusters = result.clusters
    meta = dict(
        num_clusters=num_clusters,
        seed=seed,
        max_iters=max_iters,
        iterations=clusters.iterations,
        inertia=clusters.inertia,
        kmeans_init='k-means++ on the lexicographically sorted features',
        classes=list(classes),
        class_image_counts=result.class_counts.tolist(),
        num_ood_images=result.num_ood_images,
        split=split or 'train_dataloader',
        ood_root=ood_root,
        ood_long_side=ood_long_side)
    return result, meta
