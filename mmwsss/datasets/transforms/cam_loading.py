"""Stored CAMs as model inputs: C²AM-H hints, any method that learns from a
previous stage's CAMs, and the random walk (AffinityNet's ``predict``).

The CAM file of an image (``{cam_dir}/{img_id}.npz``, written by
``tools/infer_cams.py``, format :mod:`mmwsss.utils.cam_io`) is loaded
as a float map at image resolution and registered in ``seg_fields``, so the
geometric transforms move it together with the image: ``RandomResizeLongSide``
/ ``FixedResize`` / ``RandomRescale`` resize it bilinearly,
``RandomCropPad`` pads it with 0, mmseg's ``RandomFlip`` flips it.
(mmseg's ``Resize`` resizes it with nearest interpolation, mmseg's ``Pad``
would pad it with 255: avoid ``Pad`` after these transforms.)
``PackWSSSInputs`` packs it as a ``PixelData`` field of the same name.

The coarse maps (``coarse_stride``) and the class ids (``reduce='keys'``)
are not in ``seg_fields``: load them only where no geometric transform
follows (the random walk's test pipeline).
"""
import logging
import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmwsss.registry import TRANSFORMS
from mmwsss.utils.cam_io import CAMData, cam_path, read_cam
from mmwsss.utils.reprs import format_repr
from .processing import add_seg_field

REDUCTIONS = (None, 'max', 'keys')
#: Suffixes of the extra results keys (and data-sample fields).
KEYS_SUFFIX = '_keys'
COARSE_SUFFIX = '_coarse'


@TRANSFORMS.register_module()
class LoadCAMs(BaseTransform):
    """Load an image's stored CAMs into ``results[key]``.

    Args:
        cam_dir: folder of ``{img_id}.npz`` CAM files.
        reduce: None keeps one channel per foreground class: an H×W×C
            float32 map, channel ``c - 1`` holding class id ``c`` (0 for
            classes without a CAM); ``'max'`` gives the H×W maximum over
            classes (0 where the image has no CAM), the C²AM-H hint;
            ``'keys'`` keeps the file's K maps in its order (H×W×K) and
            their class ids as ``results[key + '_keys']`` (int64, K), what
            the random walk needs (an all-zero map stays a class).
        key: results key (and data-sample field) of the map.
        num_classes: C for ``reduce=None``; default the length of
            ``results['gt_label']``.
        coarse_stride: also load the maps on the stride-s grid
            (⌈H/s⌉×⌈W/s⌉, reduced as the full ones) as
            ``results[key + '_coarse']``: the file's ``cam_coarse`` when it
            was stored at this stride, else (CAM format 1) the
            full-resolution maps resized bilinearly, with one warning per
            transform. None: not loaded.

    Requires ``img`` (after ``LoadImageFromFile``: the CAMs must have the
    image's size) and ``img_id`` (or ``img_path``).
    """

    def __init__(self,
                 cam_dir: str,
                 reduce: Optional[str] = None,
                 key: str = 'gt_cams',
                 num_classes: Optional[int] = None,
                 coarse_stride: Optional[int] = None) -> None:
        if reduce not in REDUCTIONS:
            raise ValueError(f'LoadCAMs: reduce must be one of {REDUCTIONS}, '
                             f'got {reduce!r}')
        if not cam_dir:
            raise ValueError('LoadCAMs needs cam_dir, the folder written by '
                             'tools/infer_cams.py')
        if coarse_stride is not None and int(coarse_stride) < 1:
            raise ValueError('LoadCAMs: coarse_stride must be >= 1 or None, '
                             f'got {coarse_stride}')
        self.cam_dir = cam_dir
        self.reduce = reduce
        self.key = key
        self.num_classes = num_classes
        self.coarse_stride = None if coarse_stride is None \
            else int(coarse_stride)
        self.warned = False

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

    def _reduced(self, cams: np.ndarray, keys: np.ndarray, results: dict,
                 path: str) -> np.ndarray:
        """K×h×w maps in the layout of ``reduce`` (float32)."""
        if self.reduce == 'max':
            cam_map = cams.max(axis=0) if len(keys) else np.zeros(
                cams.shape[1:], np.float32)
        elif self.reduce == 'keys':
            cam_map = cams.transpose(1, 2, 0)
        else:
            cam_map = self._dense(cams, keys, results, path)
        return cam_map.astype(np.float32, copy=False)

    def _coarse(self, data: CAMData, size: Tuple[int, int],
                path: str) -> np.ndarray:
        """K×⌈H/s⌉×⌈W/s⌉ maps: the stored ones, else the full-resolution
        maps resized (the reference's fallback; warned once)."""
        stride = self.coarse_stride
        if data.coarse is not None and data.coarse_stride == stride:
            return data.coarse
        if not self.warned:
            self.warned = True
            print_log(
                f'{path} has no stride-{stride} CAMs (CAM format version 1, '
                f'or test_cfg.coarse_stride != {stride}); resizing the '
                'full-resolution CAMs instead, which places cells up to 3/4 '
                'of a cell off the reference grid. Re-run '
                'tools/infer_cams.py to store them.',
                logger='current', level=logging.WARNING)
        coarse_size = (-(-size[0] // stride), -(-size[1] // stride))
        if data.cams.shape[0] == 0:
            return np.zeros((0, *coarse_size), np.float32)
        return F.interpolate(
            torch.from_numpy(data.cams)[None], size=coarse_size,
            mode='bilinear', align_corners=False)[0].numpy()

    def transform(self, results: dict) -> dict:
        if 'img' not in results:
            raise KeyError('LoadCAMs must come after LoadImageFromFile')
        path = cam_path(self.cam_dir, self._img_id(results))
        data = read_cam(path)
        cams, keys = data.cams, data.keys
        size = tuple(results['img'].shape[:2])
        if tuple(cams.shape[1:]) != size:
            raise ValueError(
                f'{path}: CAM size {tuple(cams.shape[1:])} != image size '
                f'{size} of {results.get("img_path")}; infer the CAMs on the '
                'same, unresized images of this data set '
                '(tools/infer_cams.py) and load them before any resize')
        add_seg_field(results, self.key,
                      self._reduced(cams, keys, results, path))
        if self.reduce == 'keys':
            results[self.key + KEYS_SUFFIX] = keys
        if self.coarse_stride is not None:
            results[self.key + COARSE_SUFFIX] = self._reduced(
                self._coarse(data, size, path), keys, results, path)
        return results

    def __repr__(self) -> str:
        return format_repr(self, 'cam_dir', 'reduce', 'key', 'coarse_stride')


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
