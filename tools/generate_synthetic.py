"""Generate the synthetic WSSS data set (PASCAL VOC layout).

    python tools/generate_synthetic.py data/synthetic --num-train 200 \\
        --num-val 50 --seed 0 --min-size 64 --max-size 96 [--num-ood 100]

``--num-ood N`` also writes N out-of-distribution images for W-OoD (a water
or sky band, no object) to ``OUT/OoD/JPEGImages`` with the list
``OUT/OoD/ood_list.txt``.

Re-running with the same parameters returns at once; see
``mmwsss.synthetic.generate_synthetic_voc``.
"""
import argparse
import json
import time
from typing import List, Optional

from mmwsss.synthetic import generate_synthetic_voc


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a deterministic synthetic WSSS data set in '
        'PASCAL VOC layout')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--num-train', type=int, default=200,
                        help='images in train_aug.txt (default 200)')
    parser.add_argument('--num-val', type=int, default=50,
                        help='images in val.txt (default 50)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--min-size', type=int, default=64,
                        help='smallest image side (default 64)')
    parser.add_argument('--max-size', type=int, default=96,
                        help='largest image side (default 96)')
    parser.add_argument('--num-ood', type=int, default=0,
                        help='out-of-distribution images (context band, no '
                        'object) in OUT/OoD for W-OoD (default 0: none)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if the parameters match')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    summary = generate_synthetic_voc(
        args.out_dir,
        num_train=args.num_train,
        num_val=args.num_val,
        image_size=(args.min_size, args.max_size),
        seed=args.seed,
        force=args.force,
        num_ood=args.num_ood)
    state = 'generated' if summary['generated'] else 'up to date'
    print(f'{summary["out_dir"]}: {state} '
          f'({time.perf_counter() - start:.1f} s)')
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    main()
