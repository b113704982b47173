"""Mean-field inference backends for :class:`mmwsss.crf.DenseCRF`.

A backend receives a validated uint8 RGB image, a ``C×(H·W)`` float32 unary
energy and the pairwise-kernel parameters, and returns the marginals ``Q``
(``C×H×W``). Everything else (unaries, presets, validation) lives in
:mod:`mmwsss.crf.dense_crf`, so a new backend (e.g. torch-native) only has to
implement :meth:`CRFBackend.infer`.
"""
from abc import ABCMeta, abstractmethod
from typing import Optional

import numpy as np
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
