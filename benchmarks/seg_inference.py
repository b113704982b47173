"""Benchmark segmentation inference: images/s plain, with TTA, with CRF.

    python benchmarks/seg_inference.py [--config CFG] [--size 375 500]
        [--images 8] [--modes plain tta crf tta+crf] [--crf-backend NAME]
        [--device cpu|cuda]

Generates ``--images`` synthetic images of ``--size`` (H W), builds the
config's segmentor (random weights; speed does not depend on them) wrapped
exactly as ``tools/test.py`` does for ``--tta`` / ``--crf``, and times
``test_step`` over the images for each mode (after one warm-up image).
Prints one line per mode. Not a test: a figure to compare machines and
changes.
"""
import argparse
import os.path as osp
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import mmwsss  # noqa: F401,E402  isort:skip
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmwsss.synthetic import generate_synthetic_voc  # noqa: E402
from tests.conftest import load_tool  # noqa: E402


def build(cfg_path: str, mode: str, root: str, args) -> tuple:
    """(model, dataloader) for one mode, wrapped as tools/test.py does."""
    cfg = Config.fromfile(cfg_path)
    cfg.model.pretrained = None
    cfg.model.backbone.pop('init_cfg', None)
    if cfg.model.get('backbone', {}).get('norm_cfg', {}).get('type') == \
            'SyncBN':
        cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
        for head in ('decode_head', 'auxiliary_head'):
            if cfg.model.get(head):
                cfg.model[head].norm_cfg = dict(type='BN',
                                                requires_grad=True)
    cfg.test_dataloader.dataset = dict(
        type='BaseSegDataset', data_root=root,
        metainfo=dict(classes=tuple(f'c{i}' for i in range(
            cfg.model.decode_head.num_classes))),
        ann_file='ImageSets/Segmentation/val.txt',
        data_prefix=dict(img_path='JPEGImages',
                         seg_map_path='SegmentationClass'),
        pipeline=cfg.test_pipeline)
    cfg.test_dataloader.num_workers = 0
    cfg.test_dataloader.persistent_workers = False
    cfg.test_dataloader.batch_size = 1
    test_tool = load_tool('test')
    ns = argparse.Namespace(tta='tta' in mode, crf=(
        'deeplab_v2' if 'crf' in mode else None), crf_backend=args.crf_backend)
    if ns.tta or ns.crf:
        if ns.tta:
            cfg.tta_pipeline[0]['backend_args'] = None
        test_tool.use_tta_model(cfg, ns)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import MODELS
    model = MODELS.build(cfg.model).to(args.device).eval()
    loader = Runner.build_dataloader(cfg.test_dataloader)
    return model, loader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--config',
        default='configs/segmentation/deeplabv3plus_tiny_synthetic.py')
    parser.add_argument('--size', type=int, nargs=2, default=(375, 500))
    parser.add_argument('--images', type=int, default=8)
    parser.add_argument('--modes', nargs='+',
                        default=['plain', 'tta', 'crf', 'tta+crf'])
    parser.add_argument('--crf-backend', default='pydensecrf')
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        side = (min(args.size), max(args.size))
        generate_synthetic_voc(root, num_train=1, num_val=args.images + 1,
                               image_size=side, seed=0)
        for mode in args.modes:
            model, loader = build(args.config, mode, root, args)
            batches = list(loader)
            with torch.no_grad():
                model.test_step(batches[0])  # warm-up
                if args.device.startswith('cuda'):
                    torch.cuda.synchronize()
                start = time.perf_counter()
                for batch in batches[1:]:
                    model.test_step(batch)
                if args.device.startswith('cuda'):
                    torch.cuda.synchronize()
            secs = time.perf_counter() - start
            print(f'{osp.basename(args.config)} {mode:<8} '
                  f'{(len(batches) - 1) / secs:7.2f} images/s '
                  f'(~{side[0]}-{side[1]} px, device {args.device}, '
                  f'CRF backend {args.crf_backend}, torch threads '
                  f'{torch.get_num_threads()})', flush=True)


if __name__ == '__main__':
    main()
