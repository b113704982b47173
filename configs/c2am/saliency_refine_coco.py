# Saliency refinement on MS COCO 2014 train2014 (82,783 images): the VOC
# recipe (saliency_refine_deeplabv3plus_r50_voc.py) with mmwsss's
# COCO14SegDataset, which reads `COCO_train2014_{id:012d}.jpg` images and
# `{id:012d}.png` masks - the names tools/infer_saliency.py and
# tools/make_pseudo_saliency.py give COCO maps. 46.5k iterations at
# 4 GPUs x 4 images = 9 epochs (PoolNet's count).
_base_ = ['./saliency_refine_deeplabv3plus_r50_voc.py']
data_root = 'data/coco14'
pseudo_saliency_dir = 'SaliencyPseudo'
max_iters = 46500
data_splits = dict(_delete_=True, train='train2014.txt')
# The data set keeps its 81-class metainfo (mmseg refuses class names that
# are not a subset of the data set's); the model predicts classes 0/1.
dataset = dict(
    _delete_=True,
    type='mmwsss.COCO14SegDataset',
    data_root=data_root,
    ann_file=data_splits['train'],
    img_name_template='COCO_train2014_{id:012d}.jpg',
    data_prefix=dict(img_path='train2014', seg_map_path=pseudo_saliency_dir))
train_dataloader = dict(
    dataset=dict(**dataset, pipeline={{_base_.train_pipeline}}))
test_dataloader = dict(
    dataset=dict(**dataset, pipeline={{_base_.test_pipeline}}))
test_evaluator = dict(out_dir='work_dirs/saliency_refine_coco/saliency')
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=5000))
