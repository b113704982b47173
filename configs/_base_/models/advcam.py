# AdvCAM inference settings (README: AdvCAM), the reference's: T = 27
# iterations (scale 0.5 runs 13 with its map x2), step 0.08, regularisation
# 7 on regions already activated (A_t / max A_t > 0.5). Set as
# `model.test_cfg.cam_mode` of any CAM classifier config.
advcam_mode = dict(
    type='AdvCAM',
    iterations=27,
    step=0.08,
    reg=7.0,
    score_th=0.5,
    reduced_scales=(0.5, ),
    weight_leak=True,  # the reference's x2 leak (README: AdvCAM)
    # classes per forward/backward: each class is an image pair with
    # gradients, ~4 ResNet-50 pairs at scale 2.0 of a VOC image (not
    # measured: no GPU here); 1 = the reference's memory
    class_batch=4)
