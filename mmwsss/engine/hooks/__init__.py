"""Hooks of mmwsss."""
from .progress_hook import ProgressBarHook

__all__ = ['ProgressBarHook']
