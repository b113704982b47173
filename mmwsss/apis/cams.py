"""CAMs of one image: the test-time path of ``tools/infer_cams.py``
(the config's test pipeline, then the model's ``test_step`` with the TTA of
its ``test_cfg``) for a single image in memory."""
import copy
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from mmwsss.apis.images import ImageType, check_image
from mmwsss.datasets.base import label_from_indices
from mmwsss.utils.cam_io import CAMData

#: Transform types left out of the test pipeline: there is no mask to load.
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadOptionalAnnotations')


def inference_pipeline_cfg(cfg) -> List[dict]:
    """The test pipeline of a config: ``test_dataloader.dataset.pipeline``
    (what the tools run), else ``test_pipeline``, without annotation
    loaders."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    pipeline = dataset.get('pipeline') or cfg.get('test_pipeline')
    if not pipeline:
        raise KeyError('the config has neither test_dataloader.dataset.'
                       'pipeline nor test_pipeline')
    return [
        copy.deepcopy(dict(t)) for t in pipeline
        if str(t.get('type')).split('.')[-1] not in ANNOTATION_LOADERS
    ]


def build_pipeline(cfg, from_array: bool) -> Compose:
    """The test pipeline; for an array its first transform, the image
    loader, reads ``results['img']`` instead (``LoadImageFromNDArray``, as
    ``mmseg.apis`` does)."""
    pipeline = inference_pipeline_cfg(cfg)
    if from_array:
        first = str(pipeline[0].get('type'))
        if not first.endswith('LoadImageFromFile'):
            raise ValueError('the test pipeline must start with '
                             f'LoadImageFromFile to take arrays, got {first}')
        pipeline[0]['type'] = 'mmseg.LoadImageFromNDArray'
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmwsss')):
        return Compose(pipeline)


def cam_network(model: nn.Module) -> nn.Module:
    """The network CAMs come from: P-NOC's generator (or its EMA), else the
    model."""
    return model.inference_net() if hasattr(model, 'inference_net') \
        else model


def label_vector(model: nn.Module,
                 labels: Optional[Sequence[int]]) -> Optional[np.ndarray]:
    """The multi-hot ``gt_label`` of ``labels`` (class ids 1..C), checked
    against what the model's ``predict`` does with labels.

    A CAM classifier with ``test_cfg.keys='gt'`` (the default) makes the
    CAMs of the labelled classes, so ``labels`` are required; with
    ``'pred'`` it picks the classes it predicts, and models without
    ``keys`` (saliency) take none, so ``labels`` must be None there.

    Raises:
        ValueError: labels missing, not wanted, or not class ids in 1..C.
    """
    test_cfg = getattr(model, 'test_cfg', None) or {}
    mode = test_cfg.get('keys') if hasattr(test_cfg, 'get') else None
    if mode != 'gt':
        if labels is not None:
            why = ("it predicts the image's classes (test_cfg.keys="
                   "'pred')" if mode == 'pred' else 'it takes no labels')
            raise ValueError(f'{type(model).__name__} would ignore labels: '
                             f'{why}; pass labels=None')
        return None
    num_classes = getattr(cam_network(model), 'num_classes', None)
    if labels is None:
        raise ValueError(
            "labels (the image's class ids, 1.."
            f"{num_classes}) are required: the model makes the CAMs of the "
            "labelled classes (test_cfg.keys='gt'); to use the classes it "
            "predicts instead, set test_cfg.keys='pred' (e.g. cfg_options="
            "{'model.test_cfg.keys': 'pred'} in init_model)")
    ids = np.asarray(labels)
    if ids.ndim > 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f'labels must be a list of integer class ids, got '
                         f'{labels!r}')
    ids = ids.reshape(-1).astype(np.int64)
    if ids.size and (ids.min() < 1 or ids.max() > num_classes):
        raise ValueError(f'labels must be class ids in 1..{num_classes} '
                         '(0, the background, is implicit), got '
                         f'{ids.tolist()}')
    return label_from_indices(ids - 1, num_classes)


def to_cam_data(sample) -> CAMData:
    """The ``cams``/``cam_keys`` (and coarse maps) of a predicted sample."""

    def numpy(tensor: torch.Tensor, dtype: type) -> np.ndarray:
        return tensor.detach().cpu().numpy().astype(dtype)

    coarse = sample.get('cams_coarse')
    if coarse is None:
        return CAMData(numpy(sample.cams, np.float32),
                       numpy(sample.cam_keys, np.int64))
    return CAMData(numpy(sample.cams, np.float32),
                   numpy(sample.cam_keys, np.int64),
                   numpy(coarse, np.float32), int(sample.get('coarse_stride')))


def infer_cams(model: nn.Module,
               image: ImageType,
               labels: Optional[Sequence[int]] = None,
               channel_order: str = 'bgr') -> CAMData:
    """The CAMs of one image, as ``tools/infer_cams.py`` writes them.

    The image goes through the config's test pipeline (annotation loading
    left out) and the model's ``test_step``, so the TTA (scales, flip) and
    the map alignment of its ``test_cfg`` apply.

    Args:
        model: a CAM model from :func:`~mmwsss.apis.init_model`
            (``CAMClassifier``, a P-NOC family model, or C²AM, whose
            saliency map comes as one class).
        image: an image file, or an H×W×3 uint8 array in
            ``channel_order`` (BGR by default, as ``mmcv.imread`` gives it
            and ``mmseg.apis.inference_model`` takes it).
        labels: the image's class ids (1..C, background left out); required
            when the model makes the CAMs of the labelled classes
            (``test_cfg.keys='gt'``, the default), refused when it predicts
            them (``'pred'``) or takes none.
        channel_order: ``'bgr'`` or ``'rgb'``, for arrays.

    Returns:
        :class:`~mmwsss.utils.cam_io.CAMData`: ``cams`` (K×H×W float32
        in [0, 1] at image resolution), ``keys`` (their K class ids),
        ``coarse`` (K×⌈H/s⌉×⌈W/s⌉, the random walk's input) and
        ``coarse_stride`` s (None without ``test_cfg.coarse_stride``).

    Raises:
        FileNotFoundError: no such image file.
        ValueError: bad image or labels (see :func:`label_vector`).
        TypeError: the model does not predict CAMs.
    """
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise ValueError('the model has no `cfg`; build it with '
                         'mmwsss.apis.init_model')
    image = check_image(image, channel_order)
    label = label_vector(model, labels)
    from_array = isinstance(image, np.ndarray)
    results = dict(img=image) if from_array else dict(img_path=image)
    if label is not None:
        results['gt_label'] = label
    packed = build_pipeline(cfg, from_array)(results)
    data = dict(inputs=[packed['inputs']],
                data_samples=[packed['data_samples']])
    with torch.no_grad():
        sample = model.test_step(data)[0]
    if 'cams' not in sample or 'cam_keys' not in sample:
        raise TypeError(f'{type(model).__name__} does not predict CAMs '
                        '(`cams`, `cam_keys`); use a CAM config')
    return to_cam_data(sample)
