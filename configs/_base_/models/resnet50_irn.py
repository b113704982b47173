# The ResNet-50 of IRN and W-OoD (README: W-OoD): torchvision layout
# (mmpretrain's ResNet, whose keys match torchvision's
# `resnet50-19c8e357.pth`), output stride 16 without dilation (stem /4,
# layer2 /2, layer3 /2, layer4 stride 1; the reference's strides=(2,2,2,1)
# count the stem conv), every BN fixed (`norm_eval`). Used by the W-OoD
# classifiers (cam_r50_irn.py) and the IRN AffinityNet
# (configs/affinity/affinitynet_r50_irn_voc.py).
irn_weights = 'data/pretrained/resnet50-19c8e357.pth'
irn_backbone = dict(
    type='ResNet',
    _scope_='mmpretrain',
    depth=50,
    strides=(1, 2, 2, 1),
    dilations=(1, 1, 1, 1),
    norm_eval=True,
    out_indices=(3, ))
