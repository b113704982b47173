# IRN-style AffinityNet for the W-OoD pipeline on VOC 2012 (README: W-OoD,
# the IRN stage): the ResNet-50 of the W-OoD classifiers
# (_base_/models/cam_r50_irn.py) from ImageNet weights, trained 3 epochs on
# affinity labels made from CAM thresholds alone (no saliency:
# tools/make_affinity_labels.py --fg-threshold 0.30 --bg-threshold 0.15),
# batch 32, crop 512 — the schedule of affinitynet_rs269_voc.py. Random
# walk: beta 10, 2^8 steps, radius 5, from CAMs ** 1.5 damped by
# (1 - edge), one max over all classes; pseudo-masks at background 0.22
# (configs/pipelines/woods_voc.py).
_base_ = ['./affinitynet_rs269_voc.py', '../_base_/models/resnet50_irn.py']
model = dict(
    backbone=dict(_base_.irn_backbone, _delete_=True),
    pretrained=_base_.irn_weights,
    test_cfg=dict(cam_power=1.5))
