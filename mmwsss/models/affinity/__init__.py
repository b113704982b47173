"""Affinity / random-walk stage: path indices, boundary→affinity, the random walk."""
from .path_index import PathIndex, edge_to_affinity, get_path_index, pair_labels
from .random_walk import random_walk, rw_to_full_resolution
from .affinitynet import AffinityNet
from .backbone_stages import resnet_stages
from .losses import AffinityLoss, affinity_targets

__all__ = ['PathIndex', 'get_path_index', 'edge_to_affinity', 'pair_labels',
           'random_walk', 'rw_to_full_resolution',
           'AffinityNet', 'AffinityLoss', 'affinity_targets', 'resnet_stages']
