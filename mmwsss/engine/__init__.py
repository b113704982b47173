"""Training machinery: optimizer constructors, hooks, loops."""
from .hooks import ProgressBarHook
from .optimizers import PretrainedScratchOptimWrapperConstructor

__all__ = ['ProgressBarHook', 'PretrainedScratchOptimWrapperConstructor']
