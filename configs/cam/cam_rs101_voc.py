# Vanilla CAM with ResNeSt-101 on VOC 2012: cam_rs269_voc.py on the
# ResNeSt-101 backbone; the ordinary classifier of pnoc_rs101_voc.py.
_base_ = ['./cam_rs269_voc.py']
model = dict(
    backbone=dict(model_name='resnest101e'),
    pretrained='data/pretrained/resnest101-22405ba7.pth')
