# The W-OoD pipeline on the embedded synthetic set with tiny models, on CPU
# (README: W-OoD). The set needs its OoD images (`--num-ood`):
#   python tools/generate_synthetic.py data/synthetic --num-ood 200
#   python tools/run_pipeline.py configs/pipelines/woods_synthetic.py \
#       --data-root data/synthetic --work-dir work_dirs/demo_woods
# With no ImageNet weights here, the vanilla classifier (trained from
# scratch) initialises the other backbones (AffinityNet, DeepLabV3+).
_base_ = ['./woods_voc.py']
data_root = 'data/synthetic'
stages = dict(
    _delete_=True,
    vanilla=dict(config='configs/cam/cam_tiny_synthetic.py'),
    # the OoD images under {data_root}/OoD (ood_root=None)
    woods=dict(config='configs/woods/woods_tiny_synthetic.py'),
    # plain TTA CAMs (AdvCAM scored below them on the synthetic sets:
    # README, AdvCAM); also score the vanilla CAMs: W-OoD vs its start
    cams=dict(compare_vanilla=True),
    # The tiny CAMs are peaky (best background threshold ~0.1, not the
    # reference's ~0.3): at IRN's fg 0.30 only the small object parts get a
    # class. fg 0.10 / bg 0.03 from the CAMs alone, no CRF (its colour
    # kernel snaps the labels to the part outlines; README, "Refinement on
    # the synthetic sets").
    affinity_labels=dict(fg_threshold=0.10, bg_threshold=0.03, crf=False,
                         workers=2),
    affinity=dict(config='configs/affinity/affinitynet_tiny_synthetic.py',
                  backbone_from_vanilla=True),
    # the random-walk maps' best background threshold on the train split
    # (an oracle) and one CRF iteration, as the P-NOC demo's (10 iterations
    # of the colour kernel snap the masks to the part outlines: -5.7)
    pseudo_masks=dict(threshold='best', crf=True, crf_iterations=1,
                      crf_gt_prob=0.9, workers=2),
    segmentation=dict(
        config='configs/segmentation/deeplabv3plus_tiny_synthetic.py',
        tta=False, crf=False, backbone_from_vanilla=True),
    supervised=dict(seg_map_path='SegmentationClassAug'),
)
