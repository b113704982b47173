# Tiny Puzzle-CAM on the synthetic set (no second classifier).
_base_ = ['./poc_tiny_synthetic.py']
model = dict(
    type='PuzzleCAM', cse=False, train_noc=False, noc=None,
    noc_checkpoint=None)
