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
import math
from types import MappingProxyType
from typing import Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .backends import (CRF_BACKENDS, CRFBackend, check_images, check_kernel,
                       check_tensor)
from .unary import (unary_from_labels, unary_from_labels_tensor,
                    unary_from_probs, unary_from_probs_tensor)

Array = Union[np.ndarray, torch.Tensor]

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
        return self._infer(
            image, _probs_unary(np.asarray(probs), image.shape[:2], gt_prob))

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
        unary = _labels_unary(np.asarray(labels), image.shape[:2], n_labels,
                              gt_prob, unsure_label)
        return self._infer(image, unary).argmax(axis=0)

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
        check_images(images)
        check_tensor('probs', probs)
        return self._infer_batch(
            images, _probs_unary(probs, images.shape[:3], gt_prob))

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
        check_images(images)
        check_tensor('labels', labels)
        unary = _labels_unary(labels, images.shape[:3], n_labels, gt_prob,
                              unsure_label)
        return self._infer_batch(images, unary).argmax(dim=1).to(
            labels.device)

    # -------------------------------------------------------------- helpers
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


def _batch_dim(size: Sequence[int]) -> str:
    """``'B×'`` for a batch's ``size`` (B, H, W), ``''`` for an image's."""
    return 'B×' if len(size) == 3 else ''


def _probs_unary(probs: Array, size: Sequence[int],
                 gt_prob: float) -> Array:
    """The checked unary of :meth:`DenseCRF.infer_probs` (a C×H×W array for
    an image of ``size`` (H, W): a contiguous C×(H·W) array) and
    :meth:`DenseCRF.infer_probs_batch` (a B×C×H×W tensor, ``size`` (B, H, W):
    a B×C×H×W tensor)."""
    size, shape = tuple(size), tuple(probs.shape)
    if len(shape) != len(size) + 1 or shape[:-3] + shape[-2:] != size:
        batch = _batch_dim(size)
        raise ValueError(f'probs must be {batch}C×H×W with {batch}H×W = '
                         f'{size}, got {shape}')
    if shape[-3] < 2:
        raise ValueError(f'probs needs at least 2 classes, got {shape[-3]}')
    if isinstance(probs, torch.Tensor):
        floating, finite = probs.is_floating_point(), torch.isfinite(probs)
    else:
        floating = np.issubdtype(probs.dtype, np.floating)
        finite = np.isfinite(probs) if floating else None
    if not floating:
        raise TypeError(f'probs must be floating point, got {probs.dtype}')
    if not bool(finite.all()) or bool((probs < 0).any()):
        raise ValueError('probs must be finite and non-negative')
    if isinstance(probs, torch.Tensor):
        return unary_from_probs_tensor(probs.detach(), scale=gt_prob)
    return np.ascontiguousarray(unary_from_probs(probs, scale=gt_prob))


def _labels_unary(labels: Array, size: Sequence[int], n_labels: int,
                  gt_prob: float, unsure_label: Optional[int]) -> Array:
    """The checked unary of :meth:`DenseCRF.infer_labels` (an H×W array:
    a contiguous n_labels×(H·W) array) and
    :meth:`DenseCRF.infer_labels_batch` (a B×H×W tensor: a
    B×n_labels×H×W tensor); ``unsure_label`` pixels get a uniform one."""
    size = tuple(size)
    if tuple(labels.shape) != size:
        raise ValueError(f'labels must be {_batch_dim(size)}H×W = {size}, got '
                         f'{tuple(labels.shape)}')
    if isinstance(labels, torch.Tensor):
        integer = not (labels.is_floating_point() or labels.is_complex()
                       or labels.dtype == torch.bool)
    else:
        integer = np.issubdtype(labels.dtype, np.integer)
    if not integer:
        raise TypeError(f'labels must be integers, got {labels.dtype}')
    n_labels = int(n_labels)
    if n_labels < 2:
        raise ValueError(f'n_labels must be >= 2, got {n_labels}')
    unsure = None
    if isinstance(labels, torch.Tensor):
        labels = labels.to(torch.int64)
        if unsure_label is not None:
            unsure = labels == unsure_label
            labels = labels.masked_fill(unsure, 0)
    elif unsure_label is not None:
        unsure = labels == unsure_label
        labels = np.where(unsure, 0, labels)
    if math.prod(labels.shape) and (int(labels.min()) < 0
                                    or int(labels.max()) >= n_labels):
        raise ValueError(
            f'labels must lie in [0, {n_labels}), got {int(labels.min())}..'
            f'{int(labels.max())}; map ignore pixels (e.g. 255) with '
            'unsure_label=255 or to a valid label first')
    if isinstance(labels, torch.Tensor):
        return unary_from_labels_tensor(labels, n_labels, gt_prob, unsure)
    return np.ascontiguousarray(
        unary_from_labels(labels, n_labels, gt_prob, unsure))


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
