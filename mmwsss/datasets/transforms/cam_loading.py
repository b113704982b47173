"""Stored CAMs as training inputs (C²AM-H hints, or any method that learns
from a previous stage's CAMs).

The CAM file of an image (``{cam_dir}/{img_id}.npz``, written by
``tools/infer_cams.py``, format :mod:`mmwsss.inference.cam_io`) is loaded
as a float map at image resolution and registered in ``seg_fields``, so the
geometric transforms move it together with the image: ``RandomResizeLongSide``
/ ``FixedResize`` / ``RandomRescale`` resize it bilinearly,
``RandomCropPad`` pads it with 0, mmseg's ``RandomFlip`` flips it.
(mmseg's ``Resize`` resizes it with nearest interpolation, mmseg's ``Pad``
would pad it with 255: avoid ``Pad`` after these transforms.)
``PackWSSSInputs`` packs it as a ``PixelData`` field of the same name.
"""
import os.path as osp
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmwsss.inference.cam_io import cam_path, load_cam
from mmwsss.registry import TRANSFORMS

REDUCTIONS = (None, 'max')


@TRANSFORMS.register_module()
class LoadCAMs(BaseTransform):
    """Load an image's stored CAMs into ``results[key]``.

    Args:
        cam_dir: folder of ``{img_id}.npz`` CAM files.
        reduce: None keeps one channel per foreground class: an H×W×C
            float32 map, channel ``c - 1`` holding class id ``c`` (0 for
            classes without a CAM); ``'max'`` gives the H×W maximum over
            classes (0 where the image has no CAM), the C²AM-H hint.
        key: results key (and data-sample field) of the map.
        num_classes: C for ``reduce=None``; default the length of
            ``results['gt_label']``.

    Requires ``img`` (after ``LoadImageFromFile``: the CAMs must have the
    image's size) and ``img_id`` (or ``img_path``).
    """

    def __init__(self,
                 cam_dir: str,
                 reduce: Optional[str] = None,
                 key: str = 'gt_cams',
                 num_classes: Optional[int] = None) -> None:
        if reduce not in REDUCTIONS:
            raise ValueError(f'LoadCAMs: reduce must be one of {REDUCTIONS}, '
                             f'got {reduce!r}')
        if not cam_dir:
            raise ValueError('LoadCAMs needs cam_dir, the folder written by '
                             'tools/infer_cams.py')
        self.cam_dir = cam_dir
        self.reduce = reduce
        self.key = key
        self.num_classes = num_classes

    @staticmethod
    def _img_id(results: dict) -> str:
        img_id = results.get('img_id')
        if img_id is None:
            img_id = osp.splitext(osp.basename(results['img_path']))[0]
        return str(img_id)

    def _dense(self, cams: np.ndarray, keys: np.ndarray, results: dict,
               path: str) -> np.ndarray:
        num = self.num_classes
        if num is None:
            if 'gt_label' not in results:
                raise KeyError(f'LoadCAMs(reduce=None) needs num_classes or '
                               f'gt_label in the results ({path})')
            num = len(results['gt_label'])
        if len(keys) and keys.max() > num:
            raise ValueError(f'{path}: class id {keys.max()} exceeds '
                             f'num_classes={num}')
        dense = np.zeros(cams.shape[1:] + (num, ), np.float32)
        dense[..., keys - 1] = cams.transpose(1, 2, 0)
        return dense

    def transform(self, results: dict) -> dict:
        if 'img' not in results:
            raise KeyError('LoadCAMs must come after LoadImageFromFile')
        path = cam_path(self.cam_dir, self._img_id(results))
        cams, keys = load_cam(path)
        size = tuple(results['img'].shape[:2])
        if tuple(cams.shape[1:]) != size:
            raise ValueError(
                f'{path}: CAM size {tuple(cams.shape[1:])} != image size '
                f'{size}; infer the CAMs on the same, unresized images '
                '(tools/infer_cams.py) and load them before any resize')
        if self.reduce == 'max':
            cam_map = (cams.max(axis=0) if len(keys) else np.zeros(
                size, np.float32))
        else:
            cam_map = self._dense(cams, keys, results, path)
        results[self.key] = cam_map.astype(np.float32, copy=False)
        fields = list(results.get('seg_fields', []))
        if self.key not in fields:
            fields.append(self.key)
        results['seg_fields'] = fields
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cam_dir={self.cam_dir!r}, '
                f'reduce={self.reduce!r}, key={self.key!r})')


@TRANSFORMS.register_module()
class LoadCAMHint(LoadCAMs):
    """The C²AM-H hint: the max over classes of an image's stored CAMs
    (``LoadCAMs`` with ``reduce='max'``), as ``results['gt_cam_hint']``.

    Args:
        cam_dir: folder of ``{img_id}.npz`` CAM files (e.g. P-NOC's CAMs of
            the training split).
        reduce: ``'max'`` (the reference); None keeps the classes.
        key: results key (and data-sample field) of the hint.
    """

    def __init__(self,
                 cam_dir: str,
                 reduce: Optional[str] = 'max',
                 key: str = 'gt_cam_hint') -> None:
        super().__init__(cam_dir=cam_dir, reduce=reduce, key=key)
