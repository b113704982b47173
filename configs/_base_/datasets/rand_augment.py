# RandAugment (mmpretrain's transforms) over the pool of the reference
# RandAugmentMC (FixMatch): 2 ops per image, magnitude drawn uniformly up to
# the maximum (magnitude_std="inf"), enhance-type ops in mmpretrain's signed
# convention, then a 16-px Cutout, always applied, as the reference. CAM
# configs put `*rand_augment_steps` after the flip of their train pipeline
# (see configs/cam/cam_rs269_voc.py).
rand_augment_policies = [
    dict(type='AutoContrast'),
    dict(type='Brightness', magnitude_range=(0, 0.9)),
    dict(type='ColorTransform', magnitude_range=(0, 0.9)),
    dict(type='Contrast', magnitude_range=(0, 0.9)),
    dict(type='Equalize'),
    dict(type='Posterize', magnitude_range=(4, 8)),
    dict(type='Rotate', magnitude_range=(0, 30)),
    dict(type='Sharpness', magnitude_range=(0, 0.9)),
    dict(type='Shear', magnitude_range=(0, 0.3), direction='horizontal'),
    dict(type='Shear', magnitude_range=(0, 0.3), direction='vertical'),
    dict(type='Solarize', magnitude_range=(256, 0)),
    dict(type='Translate', magnitude_range=(0, 0.3), direction='horizontal'),
    dict(type='Translate', magnitude_range=(0, 0.3), direction='vertical'),
]
rand_augment_steps = [
    dict(
        type='RandAugment',
        _scope_='mmpretrain',
        policies=rand_augment_policies,
        num_policies=2,
        magnitude_level=10,
        magnitude_std='inf',
        hparams=dict(pad_val=0)),
    dict(type='Cutout', _scope_='mmpretrain', shape=16, pad_val=0, prob=1.0),
]
