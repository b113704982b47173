"""CAM inference modes selected by ``model.test_cfg.cam_mode``: the plain
multi-scale + flip CAM and AdvCAM."""
from .advcam import AdvCAM, reduced_iterations
from .base import (CAM_MODES, DEFAULT_CAM_MODE, CAMMode, CAMResult, PlainCAM,
                   build_cam_mode, tta_maps)

__all__ = [
    'CAM_MODES', 'DEFAULT_CAM_MODE', 'CAMMode', 'CAMResult', 'PlainCAM',
    'AdvCAM', 'build_cam_mode', 'reduced_iterations', 'tta_maps'
]
