"""WOoDCentresHook: puts W-OoD's fixed class and OoD centres into the model
before training, from a side file or computed in-process."""
import os.path as osp
from typing import Optional

import torch.nn as nn
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmwsss.inference.features import woods_centres_from_config
from mmwsss.inference.woods_centres import load_centres, save_centres
from mmwsss.registry import HOOKS
from mmwsss.utils.errors import ConfigError


@HOOKS.register_module()
class WOoDCentresHook(Hook):
    """Fill the W-OoD model's centre buffers in ``before_train``.

    In order:

    1. centres already in the model (a resumed or loaded W-OoD checkpoint)
       are kept: they are fixed for the whole fine-tuning;
    2. ``centres_file``: the side file of ``tools/woods_centres.py``
       (checked against the model's C, D and K);
    3. otherwise they are computed in-process with the model as it starts
       training (its ``init_checkpoint`` or ``load_from``), by the function
       the tool uses (:func:`woods_centres_from_config`): class centres
       over the config's ``train_dataloader`` data set (or ``split``), OoD
       K-means over ``ood_dataset``, both with the test pipeline,
       deterministic (k-means++ seeded with ``seed``). The main process
       saves them to ``save_to`` (relative to the work dir), the same
       format as the tool's. Every rank computes them (identically); give
       a ``centres_file`` to skip that work on many GPUs.

    W-OoD fine-tunes a trained classifier, and the centres are meaningless
    for an untrained one: without ``model.init_checkpoint`` or
    ``load_from`` (and no centres in the model) training is refused.

    Args:
        centres_file: a file written by ``tools/woods_centres.py``.
        split: a name of the config's ``data_splits`` for the class centres
            (default: the ``train_dataloader`` data set).
        ood_long_side: resize the OoD images to this long side (the
            reference: 500; None keeps their size).
        seed: k-means++ seed.
        max_iters: most Lloyd iterations (reference 10).
        num_workers: data loading workers of the feature pass.
        save_to: where the in-process centres are saved (None: not saved).
    """

    priority = 'NORMAL'

    def __init__(self,
                 centres_file: Optional[str] = None,
                 split: Optional[str] = None,
                 ood_long_side: Optional[int] = None,
                 seed: int = 0,
                 max_iters: int = 10,
                 num_workers: int = 0,
                 save_to: Optional[str] = 'woods_centres.pth') -> None:
        self.centres_file = centres_file
        self.split = split
        self.ood_long_side = ood_long_side
        self.seed = int(seed)
        self.max_iters = int(max_iters)
        self.num_workers = int(num_workers)
        self.save_to = save_to

    @staticmethod
    def _model(runner) -> nn.Module:
        """The W-OoD model inside the runner's (DDP) wrapper."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'set_centres'):
            raise ConfigError(
                f'WOoDCentresHook needs a W-OoD model (model.type=\'WOoD\'), '
                f'got {type(model).__name__}; remove the hook from '
                'custom_hooks or change the model')
        return model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if model.has_centres:
            print_log('WOoDCentresHook: keeping the centres of the loaded '
                      'checkpoint', logger='current')
            return
        if not model.init_checkpoint and not runner.cfg.get('load_from'):
            raise ConfigError(
                'W-OoD fine-tunes a trained classifier: set '
                'model.init_checkpoint=CKPT (the in-distribution CAM '
                'classifier, e.g. trained with configs/woods/'
                'cam_r50_irn_voc.py or configs/cam/cam_tiny_synthetic.py) '
                'or load_from=CKPT')
        if self.centres_file:
            centres = load_centres(self.centres_file,
                                   num_classes=model.num_classes,
                                   feature_dim=model.feature_dim)
            model.set_centres(centres.class_centres, centres.ood_centres)
            print_log(f'WOoDCentresHook: centres from {self.centres_file}',
                      logger='current')
            return
        was_training = model.training
        result, meta = woods_centres_from_config(
            model, runner.cfg, split=self.split,
            ood_long_side=self.ood_long_side,
            num_clusters=model.num_clusters, seed=self.seed,
            max_iters=self.max_iters, num_workers=self.num_workers)
        model.train(was_training)
        model.set_centres(result.class_centres.float(),
                          result.clusters.centres.float())
        message = (f'WOoDCentresHook: computed {model.num_classes} class '
                   f'and {model.num_clusters} OoD centres '
                   f'({result.num_ood_images} OoD images, '
                   f'{result.clusters.iterations} Lloyd iterations)')
        if self.save_to and is_main_process():
            path = osp.join(runner.work_dir, self.save_to)
            meta.update(config=runner.cfg.filename,
                        checkpoint=model.init_checkpoint
                        or runner.cfg.get('load_from'))
            save_centres(path, model.class_centres, model.ood_centres, meta)
            message += f', saved to {path}'
        print_log(message, logger='current')
