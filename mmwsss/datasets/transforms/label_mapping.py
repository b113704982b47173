"""Remapping the values of a loaded label map.

Binary saliency masks store the foreground as 255 (pseudo-saliency PNGs,
PoolNet's output convention), which MMSeg reads as "ignore"; and a
saliency evaluation needs the class masks collapsed to foreground /
background. ``RemapLabels`` does both after mmseg's ``LoadAnnotations``, so
stock MMSeg datasets and segmentors train on such masks unchanged.
"""
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmwsss.registry import TRANSFORMS
from mmwsss.utils.reprs import format_repr


@TRANSFORMS.register_module()
class RemapLabels(BaseTransform):
    """Remap the values of ``results[key]`` (a no-op when it is absent).

    Args:
        mapping: ``{old: new}`` applied simultaneously (e.g. ``{255: 1}``
            turns 0/255 saliency masks into classes 0/1).
        binarize: instead of ``mapping``, set every value other than 0 and
            ``ignore_index`` to 1 (class masks → foreground / background).
        ignore_index: value kept by ``binarize``.
        key: the label map to remap.
    """

    def __init__(self,
                 mapping: Optional[Dict[int, int]] = None,
                 binarize: bool = False,
                 ignore_index: int = 255,
                 key: str = 'gt_seg_map') -> None:
        if bool(mapping) == bool(binarize):
            raise ValueError('RemapLabels needs exactly one of mapping and '
                             'binarize=True')
        self.mapping = {int(k): int(v) for k, v in (mapping or {}).items()}
        self.binarize = binarize
        self.ignore_index = ignore_index
        self.key = key

    def transform(self, results: dict) -> dict:
        labels = results.get(self.key)
        if labels is None:
            return results
        if self.binarize:
            out = np.where((labels != 0) & (labels != self.ignore_index), 1,
                           labels)
        else:
            out = labels.copy()
            for old, new in self.mapping.items():
                out[labels == old] = new
        results[self.key] = out.astype(labels.dtype, copy=False)
        return results

    def __repr__(self) -> str:
        return format_repr(self, 'mapping', 'binarize', 'key')
