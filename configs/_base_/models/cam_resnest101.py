_base_ = ['./cam_resnest269.py']
model = dict(
    backbone=dict(model_name='resnest101e'),
    pretrained='data/pretrained/resnest101-22405ba7.pth')
