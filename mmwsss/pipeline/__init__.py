"""Whole-pipeline runners: stages in order, resumable, with metrics."""
from typing import Dict, Type

from .pnoc import PNOCPipeline
from .runner import Command, PipelineError, Stage, StageRunner
from .woods import WOoDPipeline

#: pipeline classes by the name a pipeline config's ``pipeline_type`` gives
#: (default ``PNOCPipeline``)
PIPELINES: Dict[str, Type[PNOCPipeline]] = {
    cls.__name__: cls
    for cls in (PNOCPipeline, WOoDPipeline)
}


def pipeline_class(name: str) -> Type[PNOCPipeline]:
    """The pipeline class named ``name``, or an error listing the names."""
    if name not in PIPELINES:
        raise PipelineError(
            f'unknown pipeline_type {name!r} in the pipeline config; one of '
            f'{", ".join(sorted(PIPELINES))}')
    return PIPELINES[name]


__all__ = ['Command', 'PipelineError', 'PIPELINES', 'PNOCPipeline', 'Stage',
           'StageRunner', 'WOoDPipeline', 'pipeline_class']
