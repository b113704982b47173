"""Superpixel maps as model inputs (ICD's superpixel refinement).

``LoadSuperpixels`` loads an image's stored superpixel ids
(``{sp_dir}/{img_id}.png``, made by ``tools/make_superpixels.py``, format
:mod:`mmwsss.utils.superpixel_io`) as a uint8 label map and registers it in
``seg_fields``, so the geometric transforms move it with the image and, as
it is not a float map, treat it as a label map: ``RandomResizeLongSide`` /
``RandomRescale`` / ``FixedResize`` and mmseg's ``Resize`` resize it with
nearest interpolation, mmseg's ``RandomFlip`` flips it, ``RandomCropPad``
(and mmseg's ``Pad``) pad it with the ignore value 255.

``SuperpixelIds`` then gives that padding its own new id and, in training,
permutes the ids at random per sample (the reference's augmentation), so
ids lie in ``0..num_ids-1`` with ``num_ids = max_regions + 1`` and a model
can one-hot them at a fixed depth. ``PackWSSSInputs`` packs the map as the
int64 ``PixelData`` field ``gt_superpixels`` (1×H×W). Samples of a batch
must share their size (the ICD pipeline's fixed crop): the data
preprocessor pads ``gt_sem_seg`` only.
"""
import os.path as osp
import random

import numpy as np
from mmcv.transforms import BaseTransform

from mmwsss.registry import TRANSFORMS
from mmwsss.utils.reprs import format_repr
from mmwsss.utils.superpixel_io import (MAX_REGIONS, SUPERPIXEL_SUFFIX,
                                        read_superpixels, superpixel_path)
from .processing import add_seg_field

#: Results key (and data-sample field) of the superpixel map.
SUPERPIXEL_KEY = 'gt_superpixels'
#: What the geometric transforms pad label maps with.
PAD_VALUE = 255


def _img_id(results: dict) -> str:
    img_id = results.get('img_id')
    if img_id is None:
        img_id = osp.splitext(osp.basename(results['img_path']))[0]
    return str(img_id)


@TRANSFORMS.register_module()
class LoadSuperpixels(BaseTransform):
    """Load an image's superpixel ids into ``results[key]`` (H×W uint8) and
    add ``key`` to ``seg_fields``.

    Args:
        sp_dir: folder of ``{img_id}{suffix}`` superpixel files.
        key: results key (and data-sample field) of the map.
        suffix: file suffix.
        max_regions: ids must be below it, so that the padding id
            ``max_regions`` of :class:`SuperpixelIds` is new.

    Requires ``img`` (the map must have the image's size: load it before
    any geometric transform) and ``img_id`` (or ``img_path``).
    """

    def __init__(self,
                 sp_dir: str,
                 key: str = SUPERPIXEL_KEY,
                 suffix: str = SUPERPIXEL_SUFFIX,
                 max_regions: int = MAX_REGIONS) -> None:
        if not sp_dir:
            raise ValueError('LoadSuperpixels needs sp_dir, the folder '
                             'written by tools/make_superpixels.py')
        if not 1 <= max_regions < PAD_VALUE:
            raise ValueError(f'LoadSuperpixels: max_regions must lie in '
                             f'1..{PAD_VALUE - 1}, got {max_regions}')
        self.sp_dir = sp_dir
        self.key = key
        self.suffix = suffix
        self.max_regions = int(max_regions)

    def transform(self, results: dict) -> dict:
        if 'img' not in results:
            raise KeyError('LoadSuperpixels must come after '
                           'LoadImageFromFile')
        path = superpixel_path(self.sp_dir, _img_id(results), self.suffix)
        ids = read_superpixels(path)
        size = tuple(results['img'].shape[:2])
        if ids.shape != size:
            raise ValueError(
                f'{path}: superpixel map size {ids.shape} != image size '
                f'{size} of {results.get("img_path")}; make the superpixels '
                'from the same, unresized images (tools/make_superpixels.py) '
                'and load them before any resize')
        if ids.size and int(ids.max()) >= self.max_regions:
            raise ValueError(
                f'{path}: superpixel id {int(ids.max())} >= max_regions='
                f'{self.max_regions}; remake the superpixels with '
                f'--max-regions {self.max_regions} or raise max_regions')
        return add_seg_field(results, self.key, ids)

    def __repr__(self) -> str:
        return format_repr(self, 'sp_dir', 'key', 'max_regions')


@TRANSFORMS.register_module()
class SuperpixelIds(BaseTransform):
    """Give padded pixels a new superpixel id and, with ``permute``,
    permute the ids at random (ICD's per-sample augmentation).

    Pixels equal to ``pad_val`` (the padding of the geometric transforms)
    get id ``num_ids - 1``, which stored maps do not use; then, with
    ``permute``, every id ``i`` becomes ``perm[i]`` for a permutation
    ``perm`` of ``0..num_ids-1`` drawn from Python's ``random`` (seeded per
    data loader worker by mmengine, like the other random transforms).
    The partition into regions is unchanged.

    Args:
        key: results key of the map.
        num_ids: ids after the transform lie in ``0..num_ids-1``; the
            default is ICD's 64 superpixels + the padding id.
        pad_val: value of padded pixels before the transform.
        permute: draw a random permutation (training); False only maps the
            padding (inference).
    """

    def __init__(self,
                 key: str = SUPERPIXEL_KEY,
                 num_ids: int = MAX_REGIONS + 1,
                 pad_val: int = PAD_VALUE,
                 permute: bool = True) -> None:
        if not 2 <= num_ids <= 256:
            raise ValueError(f'SuperpixelIds: num_ids must lie in 2..256 '
                             f'(uint8 ids), got {num_ids}')
        if 0 <= pad_val < num_ids - 1:
            raise ValueError(f'SuperpixelIds: pad_val={pad_val} is a '
                             f'superpixel id (< num_ids - 1 = {num_ids - 1})')
        self.key = key
        self.num_ids = int(num_ids)
        self.pad_val = pad_val
        self.permute = permute

    def transform(self, results: dict) -> dict:
        ids = np.asarray(results[self.key])
        pad = ids == self.pad_val
        stored = ids[~pad]
        if stored.size and int(stored.max()) >= self.num_ids - 1:
            raise ValueError(
                f'{results.get("img_path", self.key)}: superpixel id '
                f'{int(stored.max())} >= num_ids - 1 = {self.num_ids - 1}, '
                'the padding id; raise num_ids')
        out = ids.astype(np.uint8, copy=True)
        out[pad] = self.num_ids - 1
        if self.permute:
            perm = np.array(random.sample(range(self.num_ids), self.num_ids),
                            np.uint8)
            out = perm[out]
        results[self.key] = out
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(key={self.key!r}, '
                f'num_ids={self.num_ids}, pad_val={self.pad_val}, '
                f'permute={self.permute})')
