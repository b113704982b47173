"""On-disk format of W-OoD's fixed centres (``tools/woods_centres.py``).

One ``torch.save`` file (read with ``weights_only=True``) holding a dict:

=================  =========  ================================================
key                type       meaning
=================  =========  ================================================
``class_centres``  float32    C x D: mean GAP feature of each foreground
                              class over its labelled training images
``ood_centres``    float32    K x D: K-means centres of the OoD features
``meta``           dict       ``version`` (1), ``feature_dim`` (D),
                              ``num_clusters`` (K), ``seed``, ``max_iters``,
                              ``iterations``, ``inertia``, ``kmeans_init``,
                              ``classes`` (the C foreground names),
                              ``class_image_counts``, ``num_ood_images`` and
                              where they came from (``config``,
                              ``checkpoint``, ``split``, ``ood_root``)
=================  =========  ================================================

Files are written atomically.
"""
import os.path as osp
from typing import NamedTuple, Optional

import torch

from mmwsss.utils.errors import DataError
from mmwsss.utils.io import atomic_path

CENTRES_FORMAT_VERSION = 1
_FIX = ('recompute it with `python tools/woods_centres.py CONFIG CHECKPOINT '
        '--out FILE`')


class WOoDCentres(NamedTuple):
    """Contents of a centres file."""
    class_centres: torch.Tensor  # C x D float32
    ood_centres: torch.Tensor  # K x D float32
    meta: dict


def save_centres(path: str, class_centres: torch.Tensor,
                 ood_centres: torch.Tensor, meta: dict) -> None:
    """Write a centres file atomically (``meta`` gets ``version`` and
    ``feature_dim``)."""
    if (class_centres.ndim != 2 or ood_centres.ndim != 2
            or class_centres.shape[1] != ood_centres.shape[1]):
        raise ValueError(f'centres must be C x D and K x D, got '
                         f'{tuple(class_centres.shape)} and '
                         f'{tuple(ood_centres.shape)}')
    meta = dict(meta, version=CENTRES_FORMAT_VERSION,
                feature_dim=int(class_centres.shape[1]))
    data = dict(
        class_centres=class_centres.detach().to('cpu', torch.float32),
        ood_centres=ood_centres.detach().to('cpu', torch.float32),
        meta=meta)
    with atomic_path(path) as tmp:
        torch.save(data, tmp)


def load_centres(path: str,
                 num_classes: Optional[int] = None,
                 feature_dim: Optional[int] = None) -> WOoDCentres:
    """Read and check a centres file.

    Args:
        num_classes: expected C (the model's), checked when given.
        feature_dim: expected D (the classifier's feature channels).

    Raises:
        FileNotFoundError: no such file (names it and how to make it).
        DataError: unreadable, another format, or C / D do not match.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'W-OoD centres file {path} does not exist; '
                                f'{_FIX}')
    try:
        data = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # noqa: BLE001 (pickle/zip errors vary)
        raise DataError(f'{path}: cannot read W-OoD centres ({err}); '
                        f'{_FIX}') from err
    if not isinstance(data, dict) or not {'class_centres', 'ood_centres',
                                          'meta'} <= set(data):
        raise DataError(f'{path}: not a W-OoD centres file (needs '
                        f'class_centres, ood_centres and meta); {_FIX}')
    meta = data['meta']
    if meta.get('version') != CENTRES_FORMAT_VERSION:
        raise DataError(f'{path}: centres format version '
                        f'{meta.get("version")!r}, expected '
                        f'{CENTRES_FORMAT_VERSION}; {_FIX}')
    cls, ood = data['class_centres'], data['ood_centres']
    if cls.ndim != 2 or ood.ndim != 2 or cls.shape[1] != ood.shape[1]:
        raise DataError(f'{path}: centres of shapes {tuple(cls.shape)} and '
                        f'{tuple(ood.shape)} are not C x D and K x D; {_FIX}')
    if num_classes is not None and len(cls) != num_classes:
        raise DataError(f'{path}: {len(cls)} class centres but the model '
                        f'has {num_classes} classes; {_FIX} with this '
                        "model's config")
    if feature_dim is not None and cls.shape[1] != feature_dim:
        raise DataError(f'{path}: centres of dimension {cls.shape[1]} but '
                        f'the classifier has {feature_dim} feature channels; '
                        f"{_FIX} with this model's checkpoint")
    return WOoDCentres(cls, ood, meta)
