"""mmwsss registries: children of MMSegmentation's.

Every registry mmseg defines has an mmwsss child with ``scope='mmwsss'``, so
configs with ``default_scope='mmwsss'`` reach mmwsss components first and fall
back to stock mmseg / mmengine ones. ``locations`` lists the mmseg modules as
well: a child does not trigger its parent's lazy imports during lookup.
"""
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import INFERENCERS as MMSEG_INFERENCERS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNER_CONSTRUCTORS as MMSEG_RUNNER_CONSTRUCTORS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import \
    WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

RUNNERS = Registry(
    'runner', parent=MMSEG_RUNNERS, scope='mmwsss',
    locations=['mmwsss.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor', parent=MMSEG_RUNNER_CONSTRUCTORS, scope='mmwsss')
LOOPS = Registry(
    'loop', parent=MMSEG_LOOPS, scope='mmwsss',
    locations=['mmseg.engine', 'mmwsss.engine'])
HOOKS = Registry(
    'hook', parent=MMSEG_HOOKS, scope='mmwsss',
    locations=['mmseg.engine', 'mmwsss.engine'])
DATASETS = Registry(
    'dataset', parent=MMSEG_DATASETS, scope='mmwsss',
    locations=['mmseg.datasets', 'mmwsss.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMSEG_DATA_SAMPLERS, scope='mmwsss',
    locations=['mmseg.datasets', 'mmwsss.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMSEG_TRANSFORMS, scope='mmwsss',
    locations=['mmseg.datasets', 'mmwsss.datasets'])
MODELS = Registry(
    'model', parent=MMSEG_MODELS, scope='mmwsss',
    locations=['mmseg.models', 'mmwsss.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMSEG_MODEL_WRAPPERS, scope='mmwsss',
    locations=['mmseg.models', 'mmwsss.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMSEG_WEIGHT_INITIALIZERS, scope='mmwsss',
    locations=['mmseg.models', 'mmwsss.models'])
OPTIMIZERS = Registry(
    'optimizer', parent=MMSEG_OPTIMIZERS, scope='mmwsss',
    locations=['mmseg.engine', 'mmwsss.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMSEG_OPTIM_WRAPPERS, scope='mmwsss',
    locations=['mmseg.engine', 'mmwsss.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMSEG_OPTIM_WRAPPER_CONSTRUCTORS, scope='mmwsss',
    locations=['mmseg.engine', 'mmwsss.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMSEG_PARAM_SCHEDULERS, scope='mmwsss',
    locations=['mmseg.engine', 'mmwsss.engine'])
METRICS = Registry(
    'metric', parent=MMSEG_METRICS, scope='mmwsss',
    locations=['mmseg.evaluation', 'mmwsss.evaluation'])
EVALUATOR = Registry(
    'evaluator', parent=MMSEG_EVALUATOR, scope='mmwsss',
    locations=['mmseg.evaluation', 'mmwsss.evaluation'])
TASK_UTILS = Registry(
    'task util', parent=MMSEG_TASK_UTILS, scope='mmwsss',
    locations=['mmseg.models', 'mmwsss.models'])
VISUALIZERS = Registry(
    'visualizer', parent=MMSEG_VISUALIZERS, scope='mmwsss',
    locations=['mmseg.visualization', 'mmwsss.visualization'])
VISBACKENDS = Registry(
    'vis_backend', parent=MMSEG_VISBACKENDS, scope='mmwsss',
    locations=['mmseg.visualization', 'mmwsss.visualization'])
LOG_PROCESSORS = Registry(
    'log_processor', parent=MMSEG_LOG_PROCESSORS, scope='mmwsss',
    locations=['mmseg.visualization', 'mmwsss.visualization'])
INFERENCERS = Registry(
    'inferencer', parent=MMSEG_INFERENCERS, scope='mmwsss',
    locations=['mmseg.apis'])
