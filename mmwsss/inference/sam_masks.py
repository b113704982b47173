"""SAM masks of an image with segment-anything's automatic mask generator
(CSRM's SAM refinement, step 1).

``segment-anything`` is optional: it is imported only here, when masks are
generated, and a missing package or checkpoint is reported with what to
do. Masks made elsewhere (e.g. by the reference's ``scripts/amg.py``) are
read with :mod:`mmwsss.utils.sam_io` instead.
"""
import os.path as osp
import pickle
import sys
from types import MappingProxyType, ModuleType
from typing import Any, Mapping, Optional

import numpy as np

from mmwsss.utils.errors import CheckpointError

#: The reference checkpoints of each model type (segment-anything's
#: release); CSRM uses ViT-H.
SAM_CHECKPOINTS: Mapping[str, str] = MappingProxyType({
    'vit_h': 'sam_vit_h_4b8939.pth',
    'vit_l': 'sam_vit_l_0b3195.pth',
    'vit_b': 'sam_vit_b_01ec64.pth',
})
SAM_MODEL_TYPES = tuple(SAM_CHECKPOINTS)
#: ``SamAutomaticMaskGenerator``'s own defaults, which CSRM's runner uses
#: (``amg.py`` passes only the options given, and it gives none). Checked
#: against segment-anything 1.0.
SAM_GENERATOR_DEFAULTS: Mapping[str, Any] = MappingProxyType(dict(
    points_per_side=32,
    points_per_batch=64,
    pred_iou_thresh=0.88,
    stability_score_thresh=0.95,
    stability_score_offset=1.0,
    box_nms_thresh=0.7,
    crop_n_layers=0,
    crop_nms_thresh=0.7,
    crop_overlap_ratio=512 / 1500,
    crop_n_points_downscale_factor=1,
    min_mask_region_area=0))
SAM_INSTALL_HINT = ('install it into this environment ({python} -m pip '
                    'install segment-anything), or make the masks elsewhere '
                    'and pass them as a folder of {{img_id}}.npz files '
                    '(--sam-dir)')


def import_segment_anything() -> ModuleType:
    """The ``segment_anything`` package.

    Raises:
        ImportError: it is not installed; the message says how to get it.
    """
    try:
        import segment_anything
    except ImportError as err:
        raise ImportError(
            'the segment_anything package (pip: segment-anything) is not '
            'installed; SAM mask generation needs it: ' +
            SAM_INSTALL_HINT.format(python=sys.executable)) from err
    return segment_anything


def check_sam_checkpoint(checkpoint: str, model_type: str) -> None:
    """Fail early, naming the path and the file to download, when the
    checkpoint is missing or the model type unknown.

    Raises:
        ValueError: unknown ``model_type``.
        FileNotFoundError: no such checkpoint file.
    """
    if model_type not in SAM_CHECKPOINTS:
        raise ValueError(f'unknown SAM model type "{model_type}"; choose one '
                         f'of {", ".join(SAM_MODEL_TYPES)}')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'SAM checkpoint "{checkpoint}" does not exist; download '
            f'{SAM_CHECKPOINTS[model_type]} (the {model_type} weights of '
            'the segment-anything release, '
            'https://github.com/facebookresearch/segment-anything'
            '#model-checkpoints) and give its path')


def build_sam_generator(checkpoint: str,
                        model_type: str = 'vit_h',
                        device: Optional[str] = None,
                        **settings: Any) -> Any:
    """A ``SamAutomaticMaskGenerator`` of the SAM ``model_type`` with the
    weights of ``checkpoint``, on ``device`` (default: CUDA when
    available).

    Args:
        settings: generator options over :data:`SAM_GENERATOR_DEFAULTS`
            (e.g. ``points_per_side=16``); ``output_mode`` is always
            ``'binary_mask'``.

    Raises:
        FileNotFoundError: no such checkpoint.
        ImportError: segment-anything is not installed.
        ValueError: unknown model type or setting, or a checkpoint of
            another model type.
    """
    import torch

    # here, as torch: the masks' file tools need neither
    from mmwsss.models.utils.checkpoint import load_weights
    check_sam_checkpoint(checkpoint, model_type)
    sam_pkg = import_segment_anything()
    unknown = sorted(set(settings) - set(SAM_GENERATOR_DEFAULTS))
    if unknown:
        raise ValueError(f'unknown SAM generator setting(s) {unknown}; known: '
                         f'{", ".join(SAM_GENERATOR_DEFAULTS)}')
    model = sam_pkg.sam_model_registry[model_type]()
    # load here rather than through the registry's checkpoint argument: the
    # one loader maps the tensors to the CPU first and names the file on a
    # mismatch; strict: every tensor of the model and no other
    try:
        load_weights(model, checkpoint, '--sam-checkpoint', strict=True,
                     weights_only=True)
    except (CheckpointError, RuntimeError, OSError, EOFError, KeyError,
            TypeError, AttributeError, pickle.UnpicklingError) as err:
        raise ValueError(
            f'SAM checkpoint "{checkpoint}" does not load into a '
            f'{model_type} model ({str(err).splitlines()[0]}); is it the '
            f'checkpoint of another model type? {model_type} needs '
            f'{SAM_CHECKPOINTS[model_type]}') from err
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model.to(device).eval()
    options = dict(SAM_GENERATOR_DEFAULTS)
    options.update(settings)
    return sam_pkg.SamAutomaticMaskGenerator(
        model, output_mode='binary_mask', **options)


def generate_sam_masks(generator: Any, image: np.ndarray) -> np.ndarray:
    """N×H×W bool masks of an H×W×3 uint8 RGB image by a
    ``SamAutomaticMaskGenerator`` (in its output order; the merge rule
    does not depend on it)."""
    import torch

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'SAM needs an H×W×3 uint8 RGB image, got '
                         f'{image.dtype} {image.shape}')
    with torch.inference_mode():
        records = generator.generate(image)
    if not records:
        return np.zeros((0, *image.shape[:2]), bool)
    return np.stack([np.asarray(r['segmentation'], bool) for r in records])
