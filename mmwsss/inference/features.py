"""GAP features of a trained CAM classifier over a data set, and W-OoD's
centres computed from them (used by ``tools/woods_centres.py``; a
``before_train`` hook can call the same functions)."""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from mmwsss.models.utils import class_centres, gap_features, kmeans
from mmwsss.models.utils.kmeans import KMeansResult
from mmwsss.utils.errors import ConfigError


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
    ``ood_dataset`` (spec §2.3 step 1; both with test pipelines).

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
