"""Packing: image + multi-hot image-level label (+ GT mask when present)."""
from typing import Sequence

import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs

from mmwsss.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackWSSSInputs(PackSegInputs):
    """``PackSegInputs`` that also carries ``gt_label``.

    The data sample gets ``gt_label`` (float tensor of length C, foreground
    classes only, multi-hot) and ``img_id`` in its metainfo; ``gt_sem_seg``
    is packed when a mask was loaded. Dense score maps (H×W or H×W×K
    floats, e.g. the CAM hints of ``LoadCAMs``/``LoadCAMHint`` and the
    coarse CAMs of ``LoadCAMs(coarse_stride=...)``) named in ``map_keys``
    become ``PixelData`` fields of the same name (K×H×W); 1-D arrays named
    in ``array_keys`` (the class ids of ``LoadCAMs(reduce='keys')``) become
    tensor fields. Label maps (H×W integer ids, e.g. the superpixels of
    ``LoadSuperpixels``) named in ``label_map_keys`` become int64
    ``PixelData`` fields (1×H×W).
    """

    def __init__(self,
                 meta_keys=('img_path', 'seg_map_path', 'img_id', 'ori_shape',
                            'img_shape', 'pad_shape', 'scale_factor', 'flip',
                            'flip_direction', 'reduce_zero_label'),
                 map_keys: Sequence[str] = ('gt_cam_hint', 'gt_cams',
                                            'gt_cams_coarse'),
                 array_keys: Sequence[str] = ('gt_cams_keys', ),
                 label_map_keys: Sequence[str] = ('gt_superpixels', )
                 ) -> None:
        super().__init__(meta_keys=meta_keys)
        self.map_keys = tuple(map_keys)
        self.array_keys = tuple(array_keys)
        self.label_map_keys = tuple(label_map_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        if 'gt_label' in results:
            label = np.asarray(results['gt_label'], np.float32)
            packed['data_samples'].set_data(
                dict(gt_label=torch.from_numpy(label.copy())))
        for key in self.map_keys:
            if results.get(key) is None:
                continue
            arr = np.asarray(results[key], np.float32)
            arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
            packed['data_samples'].set_data(
                {key: PixelData(data=torch.from_numpy(arr.copy()))})
        for key in self.label_map_keys:
            if results.get(key) is None:
                continue
            ids = np.asarray(results[key])
            if ids.ndim != 2:
                raise ValueError(f'PackWSSSInputs: label map {key} must be '
                                 f'H×W, got {ids.shape}')
            packed['data_samples'].set_data({
                key: PixelData(data=torch.from_numpy(
                    ids[None].astype(np.int64)))
            })
        for key in self.array_keys:
            if results.get(key) is not None:
                packed['data_samples'].set_data(
                    {key: torch.from_numpy(np.array(results[key]))})
        return packed
