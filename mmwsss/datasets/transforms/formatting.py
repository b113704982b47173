"""Packing: image + multi-hot image-level label (+ GT mask when present)."""
import numpy as np
import torch
from mmseg.datasets.transforms import PackSegInputs

from mmwsss.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackWSSSInputs(PackSegInputs):
    """``PackSegInputs`` that also carries ``gt_label``.

    The data sample gets ``gt_label`` (float tensor of length C, foreground
    classes only, multi-hot) and ``img_id`` in its metainfo; ``gt_sem_seg``
    is packed when a mask was loaded.
    """

    def __init__(self,
                 meta_keys=('img_path', 'seg_map_path', 'img_id', 'ori_shape',
                            'img_shape', 'pad_shape', 'scale_factor', 'flip',
                            'flip_direction', 'reduce_zero_label')) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        if 'gt_label' in results:
            label = np.asarray(results['gt_label'], np.float32)
            packed['data_samples'].set_data(
                dict(gt_label=torch.from_numpy(label.copy())))
        return packed
