# P-NOC with ResNeSt-101 on VOC 2012 (noc from a ResNeSt-101 vanilla run).
_base_ = ['./pnoc_rs269_voc.py']
model = dict(
    generator=dict(
        backbone=dict(model_name='resnest101e'),
        pretrained='data/pretrained/resnest101-22405ba7.pth'),
    noc=dict(backbone=dict(model_name='resnest101e')),
    # written by the vanilla CAM run, configs/cam/cam_rs101_voc.py
    noc_checkpoint='work_dirs/cam_rs101_voc/epoch_15.pth')
