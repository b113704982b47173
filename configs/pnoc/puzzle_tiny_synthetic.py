# Tiny Puzzle-CAM on the synthetic set (no second classifier).
_base_ = ['./poc_tiny_synthetic.py']
model = dict(type='PuzzleCAM', oc=None, oc_checkpoint=None)
