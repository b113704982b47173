"""Class-agnostic saliency models: C²AM and C²AM-H."""
from .c2am import C2AM, Disentangler
from .polarity import border_mean, is_inverted, orient

__all__ = ['C2AM', 'Disentangler', 'border_mean', 'is_inverted', 'orient']
