# The W-OoD pipeline on Pascal VOC 2012 + SBD (README: W-OoD; reference
# values): the IRN-recipe classifier, W-OoD fine-tuning with the OpenImages
# OoD set, AdvCAM seeds, the IRN stage (affinity labels from CAM thresholds
# alone, AffinityNet, random walk of CAMs ** 1.5), pseudo-masks at
# background 0.22, DeepLabV3+ on them.
#   python tools/run_pipeline.py configs/pipelines/woods_voc.py \
#       --data-root data/VOCdevkit/VOC2012 --work-dir work_dirs/woods_voc \
#       --gpus 8
# Each stage names the config it trains or infers with; `options` are extra
# --cfg-options for that stage (see configs/pipelines/pnoc_voc.py).
_base_ = ['./pnoc_voc.py']
pipeline_type = 'WOoDPipeline'
splits = dict(_delete_=True, train='train_aug', eval='train')
stages = dict(
    _delete_=True,
    vanilla=dict(config='configs/woods/cam_r50_irn_voc.py'),
    # the OoD images: data/WOoD_dataset/openimages/{OoD_images,ood_list.txt}
    # (configs/_base_/datasets/voc12_ood.py)
    woods=dict(config='configs/woods/woods_r50_voc.py',
               ood_root='data/WOoD_dataset/openimages'),
    # AdvCAM seeds of the W-OoD checkpoint (about a day for train_aug on one
    # A100 in the reference; set config=None for plain TTA CAMs)
    cams=dict(config='configs/woods/advcam_woods_r50_voc.py'),
    # IRN's confident fg / bg: argmax over the CAMs padded with 0.30 / 0.15,
    # each with the label CRF (gt_prob 0.7); no saliency
    affinity_labels=dict(fg_threshold=0.30, bg_threshold=0.15,
                         crf_gt_prob=0.7),
    affinity=dict(config='configs/affinity/affinitynet_r50_irn_voc.py'),
    # the walked maps, background 0.22, no CRF (the reference's
    # make_sem_seg_labels)
    pseudo_masks=dict(source='rw', threshold=0.22, crf=False, workers=8),
    segmentation=dict(
        config='configs/segmentation/deeplabv3plus_r101_voc_pseudo.py',
        tta=True, crf=True),
)
