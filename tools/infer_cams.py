"""Infer test-time-augmented CAMs for a dataset split, one file per image.

    python tools/infer_cams.py CONFIG CHECKPOINT --out-dir DIR [--split NAME]
                               [--overwrite] [--cfg-options k=v ...]
    bash tools/dist_infer_cams.sh CONFIG CHECKPOINT GPUS --out-dir DIR ...

TTA (scales and flip) come from ``model.test_cfg``; files are
``{img_id}.npz`` (format: :mod:`mmwsss.utils.cam_io`). Resumable: images
whose file exists are skipped; writes are atomic. Distributed launches
shard the images across processes.
"""
import sys
from typing import List, Optional

import mmwsss  # noqa: F401  isort:skip
from mmwsss.apis.tool_utils import infer_maps, inference_arg_parser
from mmwsss.utils.cam_io import cam_path


def main(argv: Optional[List[str]] = None) -> int:
    args = inference_arg_parser('Infer TTA CAMs', 'CAM folder').parse_args(
        argv)
    return infer_maps(args, 'mmwsss.CAMWriter',
                      lambda img_id: cam_path(args.out_dir, img_id), 'CAM')


if __name__ == '__main__':
    sys.exit(main())
