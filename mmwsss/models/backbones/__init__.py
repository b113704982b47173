"""Backbones mmwsss adds to MMSeg's / mmpretrain's: DeepLab's VGG16 (ICD)."""
from .vgg import DeepLabVGG16

__all__ = ['DeepLabVGG16']
