"""Writes the saliency maps a test loop produces, one grey PNG per image
(format: :mod:`mmwsss.utils.saliency_io`).

Takes the predictions of either kind of saliency model:

- C²AM / C²AM-H: ``saliency`` (1×H×W in [0, 1]);
- a stock MMSeg segmentor trained on pseudo-saliency masks (the refinement
  stage): ``seg_logits`` (C×H×W at the original image size), turned into
  the probability of class ``foreground_index`` (softmax; sigmoid for a
  one-channel head).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmwsss.registry import METRICS
from mmwsss.utils.io import sample_id
from mmwsss.utils.saliency_io import save_saliency, saliency_path


def saliency_from_sample(sample: dict, foreground_index: int = 1
                         ) -> torch.Tensor:
    """H×W saliency in [0, 1] of a predicted data sample (dict)."""
    if sample.get('saliency') is not None:
        sal = sample['saliency']
        sal = sal.get('data') if isinstance(sal, dict) else sal
        return torch.as_tensor(sal).float().reshape(sal.shape[-2:])
    logits = sample.get('seg_logits')
    if isinstance(logits, dict):
        logits = logits.get('data')
    if logits is None:
        raise KeyError('SaliencyWriter needs `saliency` (C2AM) or '
                       '`seg_logits` (an MMSeg segmentor) in the predictions')
    logits = torch.as_tensor(logits).float()
    if logits.shape[0] == 1:
        return logits[0].sigmoid()
    if not 0 <= foreground_index < logits.shape[0]:
        raise ValueError(f'foreground_index {foreground_index} out of range '
                         f'for {logits.shape[0]} classes')
    return logits.softmax(dim=0)[foreground_index]


@METRICS.register_module()
class SaliencyWriter(BaseMetric):
    """Save the saliency of every predicted sample to
    ``{out_dir}/{img_id}.png``, atomically (each rank writes its own
    samples, so distributed inference shards naturally).

    Args:
        out_dir: output folder (created).
        overwrite: rewrite existing files (default: keep them).
        foreground_index: salient class of a segmentor's ``seg_logits``.
    """

    default_prefix: Optional[str] = 'saliency_writer'

    def __init__(self,
                 out_dir: str,
                 overwrite: bool = False,
                 foreground_index: int = 1,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.out_dir = out_dir
        self.overwrite = overwrite
        self.foreground_index = foreground_index
        os.makedirs(out_dir, exist_ok=True)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            path = saliency_path(self.out_dir, sample_id(ds))
            if self.overwrite or not osp.exists(path):
                save_saliency(
                    path,
                    saliency_from_sample(ds, self.foreground_index).cpu())
            self.results.append(1)

    def compute_metrics(self, results: List[int]) -> Dict[str, float]:
        return dict(written=float(len(results)))
