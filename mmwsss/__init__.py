"""mmwsss: weakly supervised semantic segmentation on MMSegmentation 1.x.

Importing the package checks the pinned OpenMMLab versions and registers the
local checkpoint loader (see :mod:`mmwsss.compat`). Configs reach every
component through ``custom_imports=dict(imports=['mmwsss'])``.
"""
import mmcv
import mmengine
from mmengine.utils import digit_version

from .compat import register_checkpoint_loader
from .version import __version__

MMCV_RANGE = ('2.0.0rc4', '2.2.0')
MMENGINE_RANGE = ('0.10.0', '1.0.0')

if not (digit_version(MMCV_RANGE[0]) <= digit_version(mmcv.__version__) <
        digit_version(MMCV_RANGE[1])):
    raise ImportError(f'mmwsss needs {MMCV_RANGE[0]} <= mmcv < '
                      f'{MMCV_RANGE[1]}, found {mmcv.__version__}; '
                      'run `bash tools/install.sh`.')
if not (digit_version(MMENGINE_RANGE[0]) <= digit_version(
        mmengine.__version__) < digit_version(MMENGINE_RANGE[1])):
    raise ImportError(f'mmwsss needs {MMENGINE_RANGE[0]} <= mmengine < '
                      f'{MMENGINE_RANGE[1]}, found {mmengine.__version__}; '
                      'run `bash tools/install.sh`.')

register_checkpoint_loader()

# Importing the sub-packages fills the registries, so a config's
# ``custom_imports=dict(imports=['mmwsss'])`` is enough.
from . import datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__']
