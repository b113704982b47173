"""Whole-pipeline runners: stages in order, resumable, with metrics."""
from .pnoc import PNOCPipeline
from .runner import Command, PipelineError, Stage, StageRunner

__all__ = ['Command', 'PipelineError', 'PNOCPipeline', 'Stage', 'StageRunner']
