"""Python API: build a model, infer the CAMs of one image, make its
pseudo-mask (the library counterpart of ``tools/infer_cams.py`` and
``tools/make_pseudo_masks.py``, in the manner of ``mmseg.apis``).

The top layer also holds what ``tools/`` are thin shells over:
:mod:`~mmwsss.apis.tool_utils` (arguments, config loading, map inference
with a Runner, checkpoint loading) and :mod:`~mmwsss.apis.image_jobs` (the
offline per-image job runner)."""
from .cams import infer_cams
from .model import init_model
from .pseudo_mask import make_pseudo_mask

__all__ = ['init_model', 'infer_cams', 'make_pseudo_mask']
