"""Writes the CAMs a test loop produces, one file per image (a metric used
as a writer, the OpenMMLab pattern of ``IoUMetric(output_dir=...)``)."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from mmwsss.registry import METRICS
from mmwsss.utils.cam_io import cam_path, save_cam
from mmwsss.utils.io import sample_id


@METRICS.register_module()
class CAMWriter(BaseMetric):
    """Save ``cams``/``cam_keys`` of every predicted sample to
    ``{out_dir}/{img_id}.npz`` (format in :mod:`mmwsss.utils.cam_io`):
    the CAMs of a CAM model, the walked maps of an AffinityNet.

    Each rank writes its own samples atomically, so distributed inference
    shards naturally and an interrupted run leaves only complete files.

    Args:
        out_dir: output folder (created).
        overwrite: rewrite existing files (default: keep them).
    """

    default_prefix: Optional[str] = 'cam_writer'

    def __init__(self, out_dir: str, overwrite: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.out_dir = out_dir
        self.overwrite = overwrite
        os.makedirs(out_dir, exist_ok=True)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            if 'cams' not in ds:
                raise KeyError(
                    'CAMWriter needs `cams` in the predictions: the model '
                    'must be a CAM model in predict mode, or an AffinityNet '
                    'whose test pipeline loads the CAMs to walk (LoadCAMs)')
            path = cam_path(self.out_dir, sample_id(ds))
            if self.overwrite or not osp.exists(path):
                coarse = ds.get('cams_coarse')
                save_cam(path, ds['cams'].cpu().numpy(),
                         ds['cam_keys'].cpu().numpy(),
                         None if coarse is None else coarse.cpu().numpy(),
                         ds.get('coarse_stride'))
            self.results.append(1)

    def compute_metrics(self, results: List[int]) -> Dict[str, float]:
        return dict(written=float(len(results)))
