# The whole P-NOC pipeline on the embedded synthetic set with tiny models:
# the README demo (tools/demo.py), on CPU.
#   python tools/run_pipeline.py configs/pipelines/pnoc_synthetic.py \
#       --data-root data/synthetic --work-dir work_dirs/demo
# With no ImageNet weights here, the vanilla classifier (trained from
# scratch) initialises the other backbones (generator, AffinityNet).
_base_ = ['./pnoc_voc.py']
data_root = 'data/synthetic'
# no val CAMs: nothing downstream uses them here
splits = dict(_delete_=True, train='train_aug', eval='train')
stages = dict(
    vanilla=dict(config='configs/cam/cam_tiny_synthetic.py'),
    pnoc=dict(config='configs/pnoc/pnoc_tiny_synthetic.py',
              generator_from_vanilla=True),
    # also score the vanilla CAMs: P-NOC vs its baseline
    cams=dict(compare_vanilla=True),
    c2am=dict(config='configs/c2am/c2am_h_tiny_synthetic.py',
              backbone_from_vanilla=True),
    saliency_refine=dict(config='configs/c2am/saliency_refine_tiny_synthetic.py'),
    # The tiny CAMs are peaky (best background threshold ~0.05, not the
    # reference's ~0.3): at the reference's fg 0.40 only the small object
    # parts get a class and the bodies are ignored, so AffinityNet learns
    # boundaries around the parts. fg 0.05 labels the bodies; bg 0.2 is the
    # saliency threshold; no CRF: its colour kernel snaps the labels to the
    # part outlines (README, "Refinement on the synthetic sets").
    affinity_labels=dict(fg_threshold=0.05, bg_threshold=0.2, crf=False,
                         workers=2),
    affinity=dict(config='configs/affinity/affinitynet_tiny_synthetic.py',
                  backbone_from_vanilla=True),
    # the background threshold of the random-walk maps' best mIoU on the
    # train split (its GT-swept evaluation): the walked tiny CAMs peak far
    # below the reference's 0.3
    pseudo_masks=dict(threshold='best', workers=2),
    segmentation=dict(
        config='configs/segmentation/deeplabv3plus_tiny_synthetic.py',
        tta=False, crf=False, backbone_from_vanilla=True),
    supervised=dict(seg_map_path='SegmentationClassAug'),
)
