# AdvCAM seeds (README: AdvCAM) for VOC 2012 from the ResNet-50 CAM
# classifier (configs/cam/cam_r50_voc.py; any CAMClassifier checkpoint
# works, e.g. a W-OoD fine-tuned one): reference settings T = 27,
# step 0.08, regularisation 7, scales (1.0, 0.5, 1.5, 2.0) x flip.
#   # seeds for the IRN stage (the reference runs on train_aug)
#   python tools/infer_cams.py configs/woods/advcam_r50_voc.py CKPT \
#       --out-dir work_dirs/advcam_r50_voc/cams --split train_aug
#   # seed mIoU on VOC train, as the papers report it
#   python tools/eval_cams.py configs/woods/advcam_r50_voc.py \
#       --cam-dir work_dirs/advcam_r50_voc/cams --split train
# The reference takes about a day for train_aug on one A100 (AdvCAM#14).
_base_ = ['../cam/cam_r50_voc.py', '../_base_/models/advcam.py']
model = dict(test_cfg=dict(cam_mode=_base_.advcam_mode))
