"""Infer saliency maps for a dataset split, one grey PNG per image.

    python tools/infer_saliency.py CONFIG CHECKPOINT --out-dir DIR
                                   [--split NAME] [--overwrite]
                                   [--cfg-options k=v ...]
    python -m torch.distributed.run --nproc_per_node N \\
        tools/infer_saliency.py CONFIG CHECKPOINT --out-dir DIR \\
        --launcher pytorch

CONFIG is either a C²AM / C²AM-H config (TTA scales and flip from
``model.test_cfg``, ReLU-summed logits max-normalised, polarity fixed as the
model's ``test_cfg.polarity`` says) or a stock MMSeg segmentor config of the
saliency refinement (``configs/c2am/saliency_refine_*``: softmax probability
of class 1). Files are ``{img_id}.png``, ``round(255 · saliency)`` (format:
:mod:`mmwsss.utils.saliency_io`). Resumable: images whose file exists are
skipped; writes are atomic; distributed launches shard the images.
"""
import sys
from typing import List, Optional

import mmwsss  # noqa: F401  isort:skip
from mmwsss.apis.tool_utils import infer_maps, inference_arg_parser
from mmwsss.utils.saliency_io import saliency_path


def main(argv: Optional[List[str]] = None) -> int:
    args = inference_arg_parser('Infer saliency maps',
                                'saliency folder').parse_args(argv)
    return infer_maps(args, 'mmwsss.SaliencyWriter',
                      lambda img_id: saliency_path(args.out_dir, img_id),
                      'saliency')


if __name__ == '__main__':
    sys.exit(main())
