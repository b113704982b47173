# The P-NOC pipeline on MS COCO 2014 (README: pipeline, reference values):
#   python tools/run_pipeline.py configs/pipelines/pnoc_coco.py \
#       --data-root data/coco14 --work-dir work_dirs/pnoc_coco --gpus 8
_base_ = ['./pnoc_voc.py']
data_root = 'data/coco14'
img_dir = 'train2014'
img_suffix = '.jpg'
splits = dict(train='train', eval='train', val='val')
stages = dict(
    vanilla=dict(config='configs/cam/cam_rs269_coco.py'),
    pnoc=dict(config='configs/pnoc/pnoc_rs269_coco.py'),
    c2am=dict(config='configs/c2am/c2am_h_rs269_coco.py'),
    saliency_refine=dict(config='configs/c2am/saliency_refine_coco.py'),
    affinity=dict(config='configs/affinity/affinitynet_rs269_coco.py'),
    segmentation=dict(
        config='configs/segmentation/deeplabv3plus_r101_coco_pseudo.py'),
)
