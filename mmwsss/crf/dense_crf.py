"""One dense-CRF API for every method, with swappable inference backends.

:class:`DenseCRF` builds the unary energy (from scores or from a hard label
map), validates inputs and delegates mean-field inference to a backend from
:data:`~mmwsss.crf.backends.CRF_BACKENDS`: 'pydensecrf' (the C++ reference,
CPU) or 'torch' (:mod:`mmwsss.crf.torch_backend`: the same permutohedral
filter in torch, batched, CPU or CUDA). Numpy inputs go through
:meth:`DenseCRF.infer_probs` / :meth:`DenseCRF.infer_labels`; batches of
torch tensors through :meth:`DenseCRF.infer_probs_batch` /
:meth:`DenseCRF.infer_labels_batch`, with either backend.

Parameter sets used by the WSSS pipelines (README: segmentation),
available through
:func:`crf_preset` / :meth:`DenseCRF.from_preset`:

================  ==========================  ==============================
preset            pairwise terms              typical call
================  ==========================  ==============================
``crf_label``     gauss sxy 3 / compat 3,     ``infer_labels(gt_prob=0.7)``
                  bilateral sxy 50 / srgb 5 /
                  compat 10, 10 iterations
``crf_softmax``   same as ``crf_label``;      ``infer_probs(gt_prob=1.0)``
                  sxy divided by
                  ``scale_factor``
``deeplab_v2``    gauss sxy 1 / compat 3,     ``infer_probs`` on segmentation
                  bilateral sxy 67 / srgb 3 / softmax
                  compat 4, 10 iterations
================  ==========================  ==============================
"""
import copy
from types import MappingProxyType
from typing import Mapping, Optional, Tuple, Union

import numpy as np
import torch

from .backends import CRF_BACKENDS, CRFBackend, check_kernel
from .unary import (unary_from_labels, unary_from_labels_tensor,
                    unary_from_probs, unary_from_probs_tensor)

# Read-only: callers get deep copies from crf_preset().
_PRESETS: Mapping[str, dict] = MappingProxyType({
    'crf_label':
    dict(
        iterations=10,
        gaussian=dict(sxy=3, compat=3),
        bilateral=dict(sxy=50, srgb=5, compat=10)),
    'crf_softmax':
    dict(
        iterations=10,
        gaussian=dict(sxy=3, compat=3),
        bilateral=dict(sxy=50, srgb=5, compat=10),
        scale_factor=1.0),
    'deeplab_v2':
    dict(
        iterations=10,
        gaussian=dict(sxy=1, compat=3),
        bilateral=dict(sxy=67, srgb=3, compat=4)),
})


def crf_preset(name: str) -> dict:
    """A fresh copy of the :class:`DenseCRF` keyword arguments of a preset
    ('crf_label', 'crf_softmax' or 'deeplab_v2')."""
    if name not in _PRESETS:
        raise KeyError(f'unknown CRF preset {name!r}; '
                       f'choose from {sorted(_PRESETS)}')
    return copy.deepcopy(_PRESETS[name])


class DenseCRF:
    """Fully connected CRF (Krähenbühl & Koltun) with Gaussian pairwise terms.

    Args:
        backend: name in ``CRF_BACKENDS`` ('pydensecrf' or 'torch'), or a
            dict with that name under ``type`` plus the backend's keyword
            arguments, e.g. ``dict(type='torch', device='cuda')``.
        iterations: mean-field iterations.
        gaussian: ``dict(sxy, compat)`` of the position-only kernel (None to
            drop it).
        bilateral: ``dict(sxy, srgb, compat)`` of the position+colour kernel
            (None to drop it).
        scale_factor: both kernels' ``sxy`` are divided by it; use it when the
            image was downscaled by this factor relative to the tuning size.
    """

    def __init__(self,
                 backend: Union[str, dict] = 'pydensecrf',
                 iterations: int = 10,
                 gaussian: Optional[dict] = dict(sxy=3, compat=3),
                 bilateral: Optional[dict] = dict(sxy=50, srgb=5, compat=10),
                 scale_factor: float = 1.0) -> None:
        if iterations < 1:
            raise ValueError(f'iterations must be >= 1, got {iterations}')
        if not scale_factor > 0:
            raise ValueError(f'scale_factor must be > 0, got {scale_factor}')
        backend_kwargs = {}
        if isinstance(backend, dict):
            backend_kwargs = dict(backend)
            backend = backend_kwargs.pop('type', None)
        # only registered names: Registry.get would also import any dotted
        # path (e.g. 'torch' the module)
        backend_cls = CRF_BACKENDS.module_dict.get(backend)
        if backend_cls is None or not (isinstance(backend_cls, type) and
                                       issubclass(backend_cls, CRFBackend)):
            raise KeyError(f'unknown CRF backend {backend!r}; registered: '
                           f'{sorted(CRF_BACKENDS.module_dict)}')
        self.backend_name = backend
        self.backend: CRFBackend = backend_cls(**backend_kwargs)
        self.iterations = int(iterations)
        self.scale_factor = float(scale_factor)
        self.gaussian = check_kernel('gaussian', gaussian, ('sxy', 'compat'))
        self.bilateral = check_kernel('bilateral', bilateral,
                                       ('sxy', 'srgb', 'compat'))

    @classmethod
    def from_preset(cls, name: str, **overrides) -> 'DenseCRF':
        """Build from a named preset (see :func:`crf_preset`), overriding
        any keyword argument."""
        kwargs = crf_preset(name)
        kwargs.update(overrides)
        return cls(**kwargs)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(backend={self.backend_name!r}, '
                f'iterations={self.iterations}, gaussian={self.gaussian}, '
                f'bilateral={self.bilateral}, '
                f'scale_factor={self.scale_factor})')

    # ------------------------------------------------------------------ api
    def infer_probs(self,
                    image: np.ndarray,
                    probs: np.ndarray,
                    gt_prob: float = 1.0) -> np.ndarray:
        """Refine per-class scores.

        Args:
            image: H×W×3 uint8 RGB.
            probs: C×H×W non-negative scores (C >= 2), typically a softmax.
            gt_prob: confidence in ``probs`` in (0, 1]; < 1 mixes them with a
                uniform distribution before taking the unary.

        Returns:
            Q: C×H×W float32 marginals, summing to 1 over C.
        """
        image = self._check_image(image)
        probs = np.asarray(probs)
        if probs.ndim != 3 or probs.shape[1:] != image.shape[:2]:
            raise ValueError(f'probs must be C×H×W with H×W = '
                             f'{image.shape[:2]}, got {probs.shape}')
        if probs.shape[0] < 2:
            raise ValueError(f'probs needs at least 2 classes, got '
                             f'{probs.shape[0]}')
        if not np.issubdtype(probs.dtype, np.floating):
            raise TypeError(f'probs must be floating point, got {probs.dtype}')
        if not np.isfinite(probs).all() or (probs < 0).any():
            raise ValueError('probs must be finite and non-negative')
        unary = np.ascontiguousarray(unary_from_probs(probs, scale=gt_prob))
        return self._infer(image, unary)

    def infer_labels(self,
                     image: np.ndarray,
                     labels: np.ndarray,
                     n_labels: int,
                     gt_prob: float = 0.7,
                     unsure_label: Optional[int] = None) -> np.ndarray:
        """Refine a hard label map.

        Every label in ``[0, n_labels)`` is an ordinary label (label 0 is not
        "unsure"). Values outside that range, e.g. an ignore value 255, are an
        error unless ``unsure_label`` names them: those pixels then get a
        uniform unary and receive whichever label their neighbours impose.

        Args:
            image: H×W×3 uint8 RGB.
            labels: H×W integer map with values in ``[0, n_labels)``.
            n_labels: number of labels (>= 2).
            gt_prob: probability given to a pixel's own label, in (0, 1).
            unsure_label: optional value marking pixels without a label.

        Returns:
            H×W int64 label map (argmax of the marginals).
        """
        image = self._check_image(image)
        labels = np.asarray(labels)
        if labels.shape != image.shape[:2]:
            raise ValueError(f'labels must be H×W = {image.shape[:2]}, got '
                             f'{labels.shape}')
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f'labels must be integers, got {labels.dtype}')
        n_labels = int(n_labels)
        if n_labels < 2:
            raise ValueError(f'n_labels must be >= 2, got {n_labels}')
        unsure = None
        if unsure_label is not None:
            unsure = labels == unsure_label
            labels = np.where(unsure, 0, labels)
        if labels.size and (labels.min() < 0 or labels.max() >= n_labels):
            raise ValueError(
                f'labels must lie in [0, {n_labels}), got {labels.min()}..'
                f'{labels.max()}; map ignore pixels (e.g. 255) with '
                f'unsure_label=255 or to a valid label first')
        unary = unary_from_labels(labels, n_labels, gt_prob, unsure)
        q = self._infer(image, np.ascontiguousarray(unary))
        return q.argmax(axis=0)

    def infer_probs_batch(self,
                          images: torch.Tensor,
                          probs: torch.Tensor,
                          gt_prob: float = 1.0) -> torch.Tensor:
        """:meth:`infer_probs` for a batch of same-size images as tensors.

        Args:
            images: B×H×W×3 uint8 RGB tensor.
            probs: B×C×H×W non-negative float scores (C >= 2), on any device.
            gt_prob: as in :meth:`infer_probs`.

        Returns:
            Q: B×C×H×W float32 marginals on ``probs``' device.
        """
        self._check_images(images)
        if not isinstance(probs, torch.Tensor):
            raise TypeError(f'probs must be a torch tensor, got '
                            f'{type(probs).__name__}')
        if probs.ndim != 4 or probs.shape[0] != images.shape[0] or \
                probs.shape[2:] != images.shape[1:3]:
            raise ValueError(f'probs must be B×C×H×W with B×H×W = '
                             f'{tuple(images.shape[:3])}, got '
                             f'{tuple(probs.shape)}')
        if probs.shape[1] < 2:
            raise ValueError(f'probs needs at least 2 classes, got '
                             f'{probs.shape[1]}')
        if not probs.is_floating_point():
            raise TypeError(f'probs must be floating point, got {probs.dtype}')
        if not bool(torch.isfinite(probs).all()) or bool((probs < 0).any()):
            raise ValueError('probs must be finite and non-negative')
        unary = unary_from_probs_tensor(probs.detach(), scale=gt_prob)
        return self._infer_batch(images, unary)

    def infer_labels_batch(self,
                           images: torch.Tensor,
                           labels: torch.Tensor,
                           n_labels: int,
                           gt_prob: float = 0.7,
                           unsure_label: Optional[int] = None
                           ) -> torch.Tensor:
        """:meth:`infer_labels` for a batch of same-size images as tensors.

        Args:
            images: B×H×W×3 uint8 RGB tensor.
            labels: B×H×W integer tensor with values in ``[0, n_labels)``
                (or ``unsure_label``).
            n_labels, gt_prob, unsure_label: as in :meth:`infer_labels`.

        Returns:
            B×H×W int64 label maps on ``labels``' device.
        """
        self._check_images(images)
        if not isinstance(labels, torch.Tensor):
            raise TypeError(f'labels must be a torch tensor, got '
                            f'{type(labels).__name__}')
        if labels.shape != images.shape[:3]:
            raise ValueError(f'labels must be B×H×W = '
                             f'{tuple(images.shape[:3])}, got '
                             f'{tuple(labels.shape)}')
        if labels.is_floating_point() or labels.is_complex() or \
                labels.dtype == torch.bool:
            raise TypeError(f'labels must be integers, got {labels.dtype}')
        n_labels = int(n_labels)
        if n_labels < 2:
            raise ValueError(f'n_labels must be >= 2, got {n_labels}')
        labels = labels.to(torch.int64)
        unsure = None
        if unsure_label is not None:
            unsure = labels == unsure_label
            labels = labels.masked_fill(unsure, 0)
        if labels.numel() and (int(labels.min()) < 0
                               or int(labels.max()) >= n_labels):
            raise ValueError(
                f'labels must lie in [0, {n_labels}), got '
                f'{int(labels.min())}..{int(labels.max())}; map ignore '
                f'pixels (e.g. 255) with unsure_label=255 or to a valid '
                f'label first')
        unary = unary_from_labels_tensor(labels, n_labels, gt_prob, unsure)
        return self._infer_batch(images, unary).argmax(dim=1).to(
            labels.device)

    # -------------------------------------------------------------- helpers
    @staticmethod
    def _check_images(images: torch.Tensor) -> None:
        if not isinstance(images, torch.Tensor):
            raise TypeError(f'images must be a torch tensor, got '
                            f'{type(images).__name__}')
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f'images must be B×H×W×3 RGB, got '
                             f'{tuple(images.shape)}')
        if images.dtype != torch.uint8:
            raise TypeError(f'images must be uint8, got {images.dtype}')

    @staticmethod
    def _check_image(image: np.ndarray) -> np.ndarray:
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'image must be H×W×3 RGB, got {image.shape}')
        if image.dtype != np.uint8:
            raise TypeError(f'image must be uint8, got {image.dtype}')
        if not (image.flags.c_contiguous and image.flags.writeable):
            # the C++ backend needs a writable, C-ordered buffer
            image = np.array(image, order='C', copy=True)
        return image

    def _kernels(self) -> Tuple[Optional[dict], Optional[dict]]:
        """The pairwise-kernel dicts with ``sxy`` divided by the scale."""
        gaussian = bilateral = None
        if self.gaussian is not None:
            gaussian = dict(self.gaussian)
            gaussian['sxy'] = gaussian['sxy'] / self.scale_factor
        if self.bilateral is not None:
            bilateral = dict(self.bilateral)
            bilateral['sxy'] = bilateral['sxy'] / self.scale_factor
        return gaussian, bilateral

    def _infer(self, image: np.ndarray, unary: np.ndarray) -> np.ndarray:
        return self.backend.infer(image, unary, self.iterations,
                                  *self._kernels())

    def _infer_batch(self, images: torch.Tensor,
                     unary: torch.Tensor) -> torch.Tensor:
        return self.backend.infer_batch(images, unary, self.iterations,
                                        *self._kernels())


def build_dense_crf(cfg: Union[None, dict, DenseCRF]) -> Optional[DenseCRF]:
    """Build a :class:`DenseCRF` from None (no CRF), an instance, or a dict of
    its keyword arguments with an optional ``preset`` key whose values the
    other keys override."""
    if cfg is None or isinstance(cfg, DenseCRF):
        return cfg
    cfg = dict(cfg)
    preset = cfg.pop('preset', None)
    if preset is not None:
        return DenseCRF.from_preset(preset, **cfg)
    return DenseCRF(**cfg)
