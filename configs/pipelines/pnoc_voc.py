# The P-NOC pipeline on Pascal VOC 2012 + SBD (README: pipeline; reference
# values):
#   python tools/run_pipeline.py configs/pipelines/pnoc_voc.py \
#       --data-root data/VOCdevkit/VOC2012 --work-dir work_dirs/pnoc_voc --gpus 8
# Each stage names the config it trains or infers with; `options` are extra
# --cfg-options for that stage.
data_root = 'data/VOCdevkit/VOC2012'
img_dir = 'JPEGImages'
img_suffix = '.jpg'
# train: CAMs, saliency, affinity labels and pseudo-masks are made for it;
# eval: where CAMs / saliency / pseudo-masks are scored against GT (the
# papers' "train" protocol); val: CAMs also inferred for the val split.
splits = dict(train='train_aug', eval='train', val='val')
stages = dict(
    vanilla=dict(config='configs/cam/cam_rs269_voc.py'),
    # the noc starts from the vanilla checkpoint; the generator from
    # ImageNet (set generator_from_vanilla=True to start it there too)
    pnoc=dict(config='configs/pnoc/pnoc_rs269_voc.py',
              generator_from_vanilla=False),
    c2am=dict(config='configs/c2am/c2am_h_rs269_voc.py'),
    saliency=dict(threshold=0.2, crf_gt_prob=0.7),
    saliency_refine=dict(
        config='configs/c2am/saliency_refine_deeplabv3plus_r50_voc.py'),
    affinity_labels=dict(fg_threshold=0.40, bg_threshold=0.10,
                         crf_gt_prob=0.7),
    affinity=dict(config='configs/affinity/affinitynet_rs269_voc.py'),
    # random-walk settings live in the AffinityNet config
    # (`model.test_cfg`); set rw=dict(beta=..., exp_times=..., radius=...,
    # method=..., normalize=..., damp_edges=...) here to override them
    # RW maps -> background 0.3 -> dense CRF (1 iteration, gt_prob 0.9)
    pseudo_masks=dict(source='rw', threshold=0.3, crf=True,
                      crf_iterations=1, crf_gt_prob=0.9, workers=8),
    segmentation=dict(
        config='configs/segmentation/deeplabv3plus_r101_voc_pseudo.py',
        tta=True, crf=True),
    # add supervised=dict(seg_map_path='SegmentationClassAug') for the
    # fully supervised ceiling (the same segmentor on the true masks)
)
