"""The W-OoD pipeline (README: W-OoD) as
:class:`~mmwsss.pipeline.runner.Stage`s.

in-distribution (vanilla) classifier → W-OoD fine-tuning with the OoD
images → CAM inference (plain, or AdvCAM with ``test_cfg.cam_mode``) →
the IRN-style stage: affinity labels from CAM thresholds alone (no
saliency), AffinityNet, the random walk of ``CAMs ** 1.5`` → pseudo-masks
→ segmentation. Everything after the W-OoD stage is the P-NOC pipeline's
(:class:`~mmwsss.pipeline.pnoc.PNOCPipeline`): one affinity / random-walk /
pseudo-mask implementation for both methods.

``{work}/woods`` holds the W-OoD run (and the class / OoD centres its
:class:`~mmwsss.engine.hooks.WOoDCentresHook` computes before training).
"""
import os.path as osp
from typing import List

from .pnoc import PNOCPipeline
from .runner import Command

#: the OoD data set's folder under the data root
#: (``tools/generate_synthetic.py --num-ood N`` writes it there)
DEFAULT_OOD_DIR = 'OoD'


class WOoDPipeline(PNOCPipeline):
    """The P-NOC pipeline's stages with W-OoD as the prior.

    Pipeline config keys of the ``woods`` stage: ``config`` (the W-OoD
    config), ``ood_root`` (the OoD data set; default ``{data_root}/OoD``),
    ``options`` (extra ``--cfg-options``). The vanilla checkpoint becomes
    the W-OoD model's ``init_checkpoint`` (W-OoD fine-tunes the
    in-distribution classifier).
    """

    PRIOR = 'woods'
    PRIOR_TITLE = 'fine-tune the vanilla classifier with W-OoD (OoD images ' \
        'as background evidence)'

    def ood_root(self) -> str:
        return self.stage_cfg(self.PRIOR).get(
            'ood_root') or osp.join(self.data_root, DEFAULT_OOD_DIR)

    def build_woods(self) -> List[Command]:
        st = self.stage_cfg(self.PRIOR)
        ood = self.ood_root()
        # the stage's commands run from the repository root
        if not osp.isfile(osp.join(self.root, ood, 'ood_list.txt')):
            raise FileNotFoundError(
                f'{osp.join(ood, "ood_list.txt")} not found: W-OoD needs '
                'out-of-distribution images (for the synthetic set: '
                '`python tools/generate_synthetic.py DATA --num-ood 200 ...` '
                'with the set\'s other options; for VOC see the README, '
                'W-OoD), or set stages.woods.ood_root')
        extra = {
            'ood_dataset.data_root': ood,
            # the OoDBatchHook's own copy of the OoD data set
            'custom_hooks.0.ood_dataloader.dataset.data_root': ood,
            'model.init_checkpoint': self.checkpoint(self.path('vanilla')),
        }
        extra.update(st.get('options') or {})
        return [self.train(st['config'], self.path(self.PRIOR), extra)]
