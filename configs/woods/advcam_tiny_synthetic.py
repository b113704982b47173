# AdvCAM seeds (README: AdvCAM) on the synthetic set, from a checkpoint of
# the tiny vanilla CAM classifier (configs/cam/cam_tiny_synthetic.py):
#   python tools/infer_cams.py configs/woods/advcam_tiny_synthetic.py \
#       work_dirs/cam_tiny_synthetic/epoch_20.pth --out-dir work_dirs/advcam
# Same TTA scales, flip and file format as the plain CAMs, so eval_cams,
# make_pseudo_masks and the random walk read the output unchanged.
_base_ = ['../cam/cam_tiny_synthetic.py']
model = dict(
    test_cfg=dict(
        cam_mode=dict(
            type='AdvCAM',
            iterations=27,  # T; scale 0.5 runs 13 with its map x2
            step=0.08,  # largest change of an input value per iteration
            reg=7.0,  # penalty on changes of already-activated regions
            score_th=0.5,  # "activated": A_t / max A_t > 0.5
            reduced_scales=(0.5, ),
            # the reference's x2 leak into every scale (README: AdvCAM)
            weight_leak=True,
            class_batch=None)))  # all present classes in one pass
