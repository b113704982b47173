"""Mean-field inference backends for :class:`mmwsss.crf.DenseCRF`.

A backend receives a validated uint8 RGB image, a ``C×(H·W)`` float32 unary
energy and the pairwise-kernel parameters, and returns the marginals ``Q``
(``C×H×W``). Everything else (unaries, presets, validation) lives in
:mod:`mmwsss.crf.dense_crf`, so a new backend only has to implement
:meth:`CRFBackend.infer`; :meth:`CRFBackend.infer_batch` (torch tensors)
checks the batch and loops over it, unless a backend overrides
:meth:`CRFBackend._infer_batch` with a batched implementation (the
torch-native 'torch' backend, :mod:`mmwsss.crf.torch_backend`).
"""
from abc import ABCMeta, abstractmethod
import math
import numbers
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.registry import Registry

CRF_BACKENDS = Registry('crf backend', scope='mmwsss')


class CRFBackend(metaclass=ABCMeta):
    """Interface of a dense-CRF mean-field backend."""

    @abstractmethod
    def infer(self, image: np.ndarray, unary: np.ndarray, iterations: int,
              gaussian: Optional[dict],
              bilateral: Optional[dict]) -> np.ndarray:
        """Run mean-field inference.

        Args:
            image: H×W×3 uint8 RGB, C-contiguous.
            unary: C×(H·W) float32 negative log-probabilities, C-contiguous.
            iterations: number of mean-field iterations.
            gaussian: ``dict(sxy, compat)`` of the appearance-free smoothness
                kernel, or None to drop it.
            bilateral: ``dict(sxy, srgb, compat)`` of the appearance kernel,
                or None to drop it.

        Returns:
            Q: C×H×W float32 marginals (sum to 1 over C).
        """

    def infer_batch(self, images: torch.Tensor, unary: torch.Tensor,
                    iterations: int, gaussian: Optional[dict],
                    bilateral: Optional[dict]) -> torch.Tensor:
        """Mean-field on a batch of same-size images given as tensors.

        Args:
            images: B×H×W×3 uint8 RGB.
            unary: B×C×H×W float negative log-probabilities.
            iterations, gaussian, bilateral: as in :meth:`infer`.

        Returns:
            Q: B×C×H×W float32 marginals on ``unary``'s device.
        """
        check_batch(images, unary, iterations, gaussian, bilateral)
        if unary.shape[0] == 0:
            return unary.new_empty(unary.shape, dtype=torch.float32)
        return self._infer_batch(images, unary, iterations, gaussian,
                                 bilateral)

    def _infer_batch(self, images: torch.Tensor, unary: torch.Tensor,
                     iterations: int, gaussian: Optional[dict],
                     bilateral: Optional[dict]) -> torch.Tensor:
        """:meth:`infer_batch` on a checked, non-empty batch: by default
        :meth:`infer` image by image on the CPU."""
        outputs = []
        for image, energy in zip(images, unary):
            image_np = np.array(image.cpu().numpy(), order='C', copy=True)
            energy_np = np.ascontiguousarray(
                energy.detach().to('cpu', torch.float32).numpy().reshape(
                    energy.shape[0], -1))
            outputs.append(torch.from_numpy(
                self.infer(image_np, energy_np, iterations, gaussian,
                           bilateral)))
        return torch.stack(outputs).to(unary.device)


@CRF_BACKENDS.register_module(name='pydensecrf')
class PyDenseCRFBackend(CRFBackend):
    """Krähenbühl & Koltun's permutohedral-lattice CRF through ``pydensecrf``
    (installed from the ``pydensecrf2`` package). CPU, single-threaded; the
    reference implementation used by the WSSS papers."""

    def __init__(self) -> None:
        self._import()  # fail at construction, not at the first image

    @staticmethod
    def _import():
        """The ``pydensecrf.densecrf`` module (not kept on the instance, so
        the backend stays picklable for worker processes)."""
        try:
            import pydensecrf.densecrf as dcrf
        except ImportError as err:
            raise ImportError(
                'The "pydensecrf" CRF backend needs the pydensecrf module. '
                'Install it with: pip install pydensecrf2') from err
        return dcrf

    def infer(self, image: np.ndarray, unary: np.ndarray, iterations: int,
              gaussian: Optional[dict],
              bilateral: Optional[dict]) -> np.ndarray:
        height, width = image.shape[:2]
        num_labels = unary.shape[0]
        crf = self._import().DenseCRF2D(width, height, num_labels)
        crf.setUnaryEnergy(unary)
        if gaussian is not None:
            crf.addPairwiseGaussian(
                sxy=gaussian['sxy'], compat=gaussian['compat'])
        if bilateral is not None:
            crf.addPairwiseBilateral(
                sxy=bilateral['sxy'], srgb=bilateral['srgb'], rgbim=image,
                compat=bilateral['compat'])
        q = crf.inference(iterations)
        return np.asarray(q, dtype=np.float32).reshape(
            num_labels, height, width)


def check_tensor(name: str, value: object) -> None:
    """Refuse a ``value`` that is not a torch tensor, naming it."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f'{name} must be a torch tensor, got '
                        f'{type(value).__name__}')


def check_images(images: torch.Tensor) -> None:
    """Refuse anything but a non-empty B×H×W×3 uint8 RGB tensor."""
    check_tensor('images', images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f'images must be B×H×W×3 RGB, got '
                         f'{tuple(images.shape)}')
    if images.dtype != torch.uint8:
        raise TypeError(f'images must be uint8, got {images.dtype}')
    if images.shape[1] == 0 or images.shape[2] == 0:
        raise ValueError(f'images must not be empty, got '
                         f'{tuple(images.shape)}')


def check_batch(images: torch.Tensor, unary: torch.Tensor, iterations: int,
                gaussian: Optional[dict], bilateral: Optional[dict]) -> None:
    """Refuse a malformed :meth:`CRFBackend.infer_batch` call (backends can
    be called without the :class:`~mmwsss.crf.DenseCRF` front end)."""
    check_images(images)
    check_tensor('unary', unary)
    if (unary.ndim != 4 or unary.shape[0] != images.shape[0]
            or unary.shape[2:] != images.shape[1:3]):
        raise ValueError(f'unary must be B×C×H×W matching images '
                         f'{tuple(images.shape[:3])}, got '
                         f'{tuple(unary.shape)}')
    if unary.shape[1] < 1:
        raise ValueError('unary needs at least one label')
    if not unary.is_floating_point():
        raise TypeError(f'unary must be floating point, got {unary.dtype}')
    if isinstance(iterations, bool) or not isinstance(
            iterations, (int, np.integer)) or iterations < 0:
        raise ValueError(f'iterations must be an int >= 0, got '
                         f'{iterations!r}')
    check_kernel('gaussian', gaussian, ('sxy', 'compat'))
    check_kernel('bilateral', bilateral, ('sxy', 'srgb', 'compat'))


def check_kernel(name: str, params: Optional[dict],
                 keys: Tuple[str, ...]) -> Optional[dict]:
    """A validated copy of a pairwise-kernel dict (None disables the
    kernel); a malformed one raises a clear error. Shared by every backend
    and the DenseCRF front end."""
    if params is None:
        return None
    if not isinstance(params, dict):
        raise TypeError(f'{name} kernel must be a dict with keys {keys} or '
                        f'None, got {type(params).__name__}')
    missing = [k for k in keys if k not in params]
    unknown = [k for k in params if k not in keys]
    if missing or unknown:
        raise ValueError(f'{name} kernel needs exactly {keys}; missing '
                         f'{missing}, unknown {unknown}')
    for key in keys:
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f'{name}.{key} must be a real number, got '
                            f'{value!r}')
        if not math.isfinite(value):
            raise ValueError(f'{name}.{key} must be finite, got {value}')
        if key != 'compat' and not value > 0:
            raise ValueError(f'{name}.{key} must be > 0, got {value}')
    return dict(params)
