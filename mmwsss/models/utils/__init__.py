"""Shared model utilities: checkpoint loading, label smoothing, TTA, puzzle
tiling, class-specific erasing, loss-weight schedules, feature centres,
K-means and the adversarial input step. (The CAM max-normalisation is
:func:`mmwsss.utils.cam_utils.normalize_cam`, in the bottom layer.)"""
from .adversarial import adversarial_climb, normalised_ascent
from .checkpoint import (LoadedKeys, imagenet_keys, load_backbone_weights,
                         load_weights, mmwsss_keys)
from .centres import class_centres, gap_features
from .erasing import (class_specific_mask, hard_erase, sample_one_positive,
                      soft_erase)
from .kmeans import KMeansResult, canonical_order, kmeans
from .puzzle import merge_features, tile_features
from .smoothing import label_smoothing
from .tta import (ALIGNMENTS, PILResize, ScaleSum, build_resize,
                  check_align, multi_scale_flip_forward, resample_to_stride,
                  resize_image, strided_size, upsample_to)
from .weight_schedule import LinearWeight, build_weight, training_progress

__all__ = [
    'label_smoothing', 'multi_scale_flip_forward',
    'resize_image', 'upsample_to', 'ALIGNMENTS', 'check_align', 'PILResize',
    'build_resize', 'resample_to_stride', 'strided_size', 'ScaleSum',
    'class_specific_mask', 'hard_erase', 'sample_one_positive', 'soft_erase',
    'merge_features', 'tile_features', 'LinearWeight', 'build_weight',
    'training_progress', 'adversarial_climb', 'normalised_ascent',
    'class_centres', 'gap_features', 'KMeansResult', 'canonical_order',
    'kmeans', 'LoadedKeys', 'load_weights', 'load_backbone_weights',
    'imagenet_keys', 'mmwsss_keys'
]
