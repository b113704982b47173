"""Test-time augmentation + dense-CRF post-processing for any segmentor.

The reference's final stage (README: segmentation) averages the softmax over
scales 0.5–2 × flip and refines it with a dense CRF using DeepLab-v2's
parameters before the argmax. :class:`CRFSegTTAModel` is stock MMSeg's
``SegTTAModel`` with that last step added, so it wraps any MMSeg segmentor
(``tools/test.py CONFIG CKPT --tta --crf``); with a single augmentation it
is plain CRF post-processing.
"""
from typing import List, Optional, Union

import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.utils import SampleList
from torch import nn

from mmwsss.crf import build_dense_crf
from mmwsss.registry import MODELS
from mmwsss.utils.io import load_rgb


@MODELS.register_module()
class CRFSegTTAModel(SegTTAModel):
    """Average the augmented predictions' probabilities, then refine them
    with a dense CRF on the original image.

    Args:
        module: the segmentor (config dict or module).
        crf: :class:`~mmwsss.crf.DenseCRF` config (``preset`` plus
            overrides, e.g. ``dict(preset='deeplab_v2', backend='torch')``)
            or None for no CRF (then identical to ``SegTTAModel``).
        gt_prob: confidence in the averaged probabilities (1 = use them as
            they are, the reference's ``crf_inference_dlv2_softmax``).
        data_preprocessor: see ``BaseTTAModel``.
    """

    def __init__(self,
                 module: Union[dict, nn.Module],
                 crf: Optional[dict] = dict(preset='deeplab_v2'),
                 gt_prob: float = 1.0,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(module=module, data_preprocessor=data_preprocessor)
        self.crf = build_dense_crf(crf)
        self.gt_prob = gt_prob

    def _probs(self, data_samples: SampleList) -> torch.Tensor:
        """C×H×W mean probabilities of one image's augmentations (2
        channels, background first, for single-channel binary heads)."""
        total = None
        for sample in data_samples:
            logits = sample.seg_logits.data
            if self.module.out_channels > 1:
                probs = logits.softmax(dim=0)
            else:
                fg = logits.sigmoid()
                probs = torch.cat([1 - fg, fg], dim=0)
            total = probs if total is None else total + probs
        return total / len(data_samples)

    def _refine(self, probs: torch.Tensor, img_path: str) -> torch.Tensor:
        image = load_rgb(img_path)
        if tuple(image.shape[:2]) != tuple(probs.shape[1:]):
            raise ValueError(
                f'{img_path}: image size {image.shape[:2]} differs from the '
                f'prediction size {tuple(probs.shape[1:])}; the CRF needs '
                'predictions at the original image size')
        q = self.crf.infer_probs(
            image, probs.float().cpu().numpy(), gt_prob=self.gt_prob)
        return torch.from_numpy(np.ascontiguousarray(q)).to(probs.device)

    def merge_preds(self,
                    data_samples_list: List[SampleList]) -> SampleList:
        """One data sample per image with ``seg_logits`` (the averaged,
        optionally CRF-refined probabilities) and ``pred_sem_seg``."""
        merged = []
        for data_samples in data_samples_list:
            first = data_samples[0]
            probs = self._probs(data_samples)
            if self.crf is not None:
                probs = self._refine(probs, first.img_path)
            if self.module.out_channels == 1:
                threshold = self.module.decode_head.threshold
                pred = (probs[1:] > threshold).long()
            else:
                pred = probs.argmax(dim=0, keepdim=True)
            sample = first.new()
            sample.set_data({
                'seg_logits': PixelData(data=probs),
                'pred_sem_seg': PixelData(data=pred)
            })
            if 'gt_sem_seg' in first:
                sample.gt_sem_seg = first.gt_sem_seg
            merged.append(sample)
        return merged
