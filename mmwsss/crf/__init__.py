"""Dense CRF post-processing with swappable backends."""
from .backends import CRF_BACKENDS, CRFBackend, PyDenseCRFBackend
from .dense_crf import DenseCRF, build_dense_crf, crf_preset
from .permutohedral import PermutohedralLattice
from .torch_backend import TorchCRFBackend
from .unary import unary_from_labels, unary_from_probs

__all__ = [
    'CRF_BACKENDS', 'CRFBackend', 'PyDenseCRFBackend', 'TorchCRFBackend',
    'PermutohedralLattice', 'DenseCRF', 'build_dense_crf', 'crf_preset',
    'unary_from_labels', 'unary_from_probs'
]
