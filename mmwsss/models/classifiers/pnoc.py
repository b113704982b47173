"""Puzzle-CAM, OC-CSE, P-OC and P-NOC as one configurable CAM trainer.

A *generator* CAM classifier is trained with up to three extra terms
(P-NOC spec §3.2–3.5):

- **puzzle**: the image tiled into 4 pieces; classification of the merged
  piece CAMs and an L1 reconstruction between full and merged raw CAM logits
  masked by the hard labels (weight ``re``);
- **cse**: one random present class ``r`` softly erased by the generator's
  CAM; a second classifier must recognise the other classes (weight
  ``cse``) — its gradient reaches the generator through the erasing mask;
- **noc**: the second classifier ("not-so-ordinary", P-NOC) is itself
  trained, alternately, on images hard-erased where the CAM of ``r`` is high,
  against the full label set (weight ``noc``) — an adversarial game.

The registered presets select terms: ``PuzzleCAM`` (puzzle), ``OCCSE`` (cse,
frozen ordinary classifier), ``POC`` (puzzle + cse, frozen), ``PNOC``
(puzzle + cse + trained noc, two optimizers). Defaults reproduce the
official code; paper↔code differences are switches (see the README).
"""
import contextlib
from typing import Dict, Iterator, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import (BaseModel, ExponentialMovingAverage,
                            is_model_wrapper)
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmwsss.models.utils import (build_weight, check_align, hard_erase,
                                 merge_features, sample_one_positive,
                                 soft_erase, tile_features, training_progress)
from mmwsss.models.utils.weights import load_model_checkpoint
from mmwsss.registry import MODELS
from mmwsss.utils.options import merge_options

DEFAULT_WEIGHTS = dict(
    re=dict(start=0.0, end=4.0, fraction=0.5),  # λ_re: 0 → 4, first half
    cse=dict(start=0.3, end=1.0, fraction=1.0),  # λ_cse: 0.3 → 1
    noc=dict(start=0.0, end=1.0, fraction=1.0),  # λ_noc: 0 → 1
)
# EMA of the generator (off in the reference runners): mmengine's momentum
# convention, ema = (1 - momentum)·ema + momentum·live, per optimizer step
DEFAULT_EMA = dict(momentum=0.0002, interval=1, begin_iter=0,
                   update_buffers=True)


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a (DDP) wrapper."""
    return module.module if is_model_wrapper(module) else module


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Temporarily stop gradients to ``module``'s parameters (inputs still
    receive gradients through it)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


@MODELS.register_module()
class PNOC(BaseModel):
    """CAM generator trained with puzzle / CSE / NOC terms.

    Args:
        generator: CAM classifier config (the network whose CAMs are used).
        noc: config of the second classifier (OC / noc); ``freeze_bn=True``
            as the reference's fixed-BN mode. Needed when ``cse`` is on.
        noc_checkpoint: the vanilla-CAM checkpoint that initialises the
            second classifier (the single config key pointing at the
            prerequisite run). None: random (tests only; logged).
        puzzle: enable the Puzzle-CAM terms.
        cse: enable the class-specific erasing term.
        train_noc: train the second classifier (P-NOC); False keeps it
            frozen (OC-CSE, P-OC).
        noc_interval: k_noc, update noc every k micro-steps.
        noc_threshold: δ_noc of the hard erasing.
        erase_rule: 'code' (keep ψ ≤ δ, official) or 'paper' (keep 1−ψ > δ).
        soft_mask_global_norm: one max over the batch for the soft mask
            (official) instead of per sample.
        hard_mask_global_norm: same for the hard mask (official: per sample).
        mask_align: where CAM cells land on the pixels of the erasing
            masks, one of ``ALIGNMENTS`` (mmwsss.models.utils.tta):
            'resize' (official: a plain resize), 'center' or 'corner'
            (matters on small images).
        noc_receives_cse_grad: the official loop leaks λ_cse·∇CSE into the
            noc update (noc params are in the generator's graph and their
            gradients are only cleared by the noc step); True for parity,
            False for the paper's formulation.
        weights: loss-weight schedules, merged over ``DEFAULT_WEIGHTS``
            (a float is a constant).
        loss: classification loss used by every term.
        ema: keep an exponential moving average of the generator
            (``generator_ema``; keys of ``DEFAULT_EMA``; None: off, as the
            reference runners). It is updated after every generator
            optimizer step (so accumulation-aware), copies the generator
            until ``begin_iter``, is saved in checkpoints and replaces the
            generator for inference (``predict``/``tensor`` modes, CAM
            tools).
    """

    def __init__(self,
                 generator: dict,
                 noc: Optional[dict] = None,
                 noc_checkpoint: Optional[str] = None,
                 puzzle: bool = True,
                 cse: bool = True,
                 train_noc: bool = True,
                 noc_interval: int = 1,
                 noc_threshold: float = 0.2,
                 erase_rule: str = 'code',
                 soft_mask_global_norm: bool = True,
                 hard_mask_global_norm: bool = False,
                 mask_align: str = 'resize',
                 noc_receives_cse_grad: bool = True,
                 weights: Optional[dict] = None,
                 ema: Optional[dict] = None,
                 loss: dict = dict(
                     type='MultiLabelSoftMarginLoss', label_smoothing=0.1),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if (cse or train_noc) and noc is None:
            raise ValueError('`noc` (the second classifier) is required when '
                             '`cse` or `train_noc` is on')
        if train_noc and not cse:
            raise ValueError('train_noc needs cse (the erased class r)')
        if noc_interval < 1:
            raise ValueError(f'noc_interval must be >= 1, got {noc_interval}')
        self.generator = MODELS.build(generator)
        self.noc = MODELS.build(noc) if noc is not None else None
        self._share_normalisation()
        for name in ('generator', 'noc'):
            if hasattr(getattr(self, name), 'pretrained_key'):
                getattr(self, name).pretrained_key = f'model.{name}.pretrained'
        self.loss_cls = MODELS.build(loss)
        self.noc_checkpoint = noc_checkpoint
        self.puzzle, self.cse, self.train_noc = puzzle, cse, train_noc
        self.noc_interval = noc_interval
        self.noc_threshold = noc_threshold
        self.erase_rule = erase_rule
        self.soft_mask_global_norm = soft_mask_global_norm
        self.hard_mask_global_norm = hard_mask_global_norm
        self.mask_align = check_align(mask_align, 'model.mask_align')
        self.noc_receives_cse_grad = noc_receives_cse_grad
        self.weights = {
            k: build_weight(v)
            for k, v in merge_options(weights, DEFAULT_WEIGHTS,
                                      'loss weight').items()
        }
        if self.noc is not None and not train_noc:
            for p in self.noc.parameters():
                p.requires_grad_(False)
        self.generator_ema, self.ema_begin_iter = None, 0
        if ema is not None:
            ema = merge_options(ema, DEFAULT_EMA, 'model.ema')
            self.ema_begin_iter = int(ema['begin_iter'])
            self.generator_ema = ExponentialMovingAverage(
                self.generator, momentum=ema['momentum'],
                interval=ema['interval'],
                update_buffers=ema['update_buffers'])

    # ---------------------------------------------------------------- set-up
    def _share_normalisation(self) -> None:
        """Tell the classifiers how this model normalises their inputs (the
        reference's TTA resize works on 8-bit images, ``resize='pil'``)."""
        mean = getattr(self.data_preprocessor, 'mean', None)
        std = getattr(self.data_preprocessor, 'std', None)
        if mean is None or std is None:
            return
        for net in (self.generator, self.noc):
            if hasattr(net, 'set_tta_normalisation'):
                net.set_tta_normalisation(mean.flatten().tolist(),
                                          std.flatten().tolist())

    def train(self, mode: bool = True) -> 'PNOC':
        super().train(mode)
        if self.noc is not None and not self.train_noc:
            self.noc.eval()  # a frozen ordinary classifier
        return self

    def init_weights(self) -> None:
        unwrap(self.generator).init_weights()
        if self.generator_ema is not None:  # start from the initial weights
            self.generator_ema.steps.zero_()
            self.generator_ema.update_parameters(unwrap(self.generator))
        if self.noc is None:
            return
        if self.noc_checkpoint:
            load_model_checkpoint(
                unwrap(self.noc), self.noc_checkpoint,
                config_key='model.noc_checkpoint')
        else:
            print_log(
                'model.noc_checkpoint is None: the second classifier starts '
                'from random weights (the methods need a trained vanilla CAM '
                'classifier there).', logger='current', level=30)

    def inference_prefixes(self) -> Tuple[str, ...]:
        """State-dict prefixes CAM inference needs (the generator, or its
        EMA when there is one)."""
        return ('generator.', ) if self.generator_ema is None else (
            'generator_ema.', )

    def inference_net(self) -> nn.Module:
        """The network CAMs come from: the EMA generator if kept."""
        if self.generator_ema is not None:
            return self.generator_ema.module
        return unwrap(self.generator)

    def update_ema(self, stepped: bool) -> None:
        """Average the generator into its EMA after an optimizer step; a
        plain copy before ``begin_iter``."""
        if self.generator_ema is None or not stepped:
            return
        step, _ = training_progress()
        if step < self.ema_begin_iter:
            self.generator_ema.steps.zero_()  # steps == 0: copy
        self.generator_ema.update_parameters(unwrap(self.generator))

    # --------------------------------------------------------------- helpers
    @staticmethod
    def _wrapper(optim_wrapper: Union[OptimWrapper, OptimWrapperDict],
                 name: str) -> OptimWrapper:
        if isinstance(optim_wrapper, OptimWrapperDict):
            if name not in optim_wrapper:
                raise KeyError(f'optim_wrapper has no "{name}" entry; '
                               f'has {list(optim_wrapper.keys())}')
            return optim_wrapper[name]
        if name != 'generator':
            raise KeyError('training the noc needs an OptimWrapperDict with '
                           '"generator" and "noc" (see configs/pnoc)')
        return optim_wrapper

    def current_weights(self) -> Dict[str, float]:
        step, total = training_progress()
        return {k: w(step, total) for k, w in self.weights.items()}

    # --------------------------------------------------------------- training
    def generator_losses(self, inputs: torch.Tensor, labels: torch.Tensor,
                         weights: Dict[str, float]
                         ) -> Tuple[dict, torch.Tensor, Optional[torch.Tensor]]:
        """Generator losses, its raw CAMs and the erased class per sample."""
        logits, cams = self.generator(inputs, mode='tensor')
        losses = dict(loss_cls=self.loss_cls(logits, labels))
        if self.puzzle:
            _, tile_cams = self.generator(tile_features(inputs), mode='tensor')
            merged = merge_features(tile_cams)
            losses['loss_puzzle'] = self.loss_cls(merged.mean(dim=(2, 3)),
                                                  labels)
            diff = (cams - merged).abs() * labels[:, :, None, None]
            losses['loss_re'] = weights['re'] * diff.mean()
        choice = None
        if self.cse:
            choice = sample_one_positive(labels)
            erased = soft_erase(inputs, cams, choice,
                                self.soft_mask_global_norm, self.mask_align)
            remaining = (labels - choice).clamp(min=0)
            leak = self.train_noc and self.noc_receives_cse_grad
            # Without the leak the noc is frozen for this pass and called
            # unwrapped (its DDP reducer expects no gradients here).
            noc = self.noc if leak else unwrap(self.noc)
            ctx = contextlib.nullcontext() if leak else frozen(noc)
            with ctx:
                oc_logits, _ = noc(erased, mode='tensor')
            losses['loss_cse'] = weights['cse'] * self.loss_cls(
                oc_logits, remaining)
        return losses, cams, choice

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        data = self.data_preprocessor(data, True)
        inputs = data['inputs']
        labels = unwrap(self.generator).stack_labels(
            data['data_samples']).to(inputs.device)
        weights = self.current_weights()
        step, _ = training_progress()

        gen_wrapper = self._wrapper(optim_wrapper, 'generator')
        with gen_wrapper.optim_context(self.generator):
            losses, cams, choice = self.generator_losses(
                inputs, labels, weights)
            loss, log_vars = self.parse_losses(losses)
            gen_wrapper.update_params(loss)
        self.update_ema(gen_wrapper.should_update())

        if self.train_noc and (step + 1) % self.noc_interval == 0:
            noc_wrapper = self._wrapper(optim_wrapper, 'noc')
            with noc_wrapper.optim_context(self.noc):
                hard = hard_erase(inputs, cams, choice, self.noc_threshold,
                                  self.hard_mask_global_norm, self.erase_rule,
                                  self.mask_align)
                noc_logits, _ = self.noc(hard, mode='tensor')
                loss_noc = weights['noc'] * self.loss_cls(noc_logits, labels)
                noc_wrapper.update_params(loss_noc)
            log_vars['loss_noc'] = loss_noc.detach()
        for name, value in weights.items():
            log_vars[f'w_{name}'] = torch.tensor(value)
        return log_vars

    # -------------------------------------------------------------- inference
    def forward(self, inputs: torch.Tensor, data_samples=None,
                mode: str = 'tensor'):
        """``predict``/``tensor`` use the generator (its EMA if kept);
        training goes through :meth:`train_step`."""
        if mode == 'loss':
            raise RuntimeError('PNOC trains through train_step (several '
                               'optimizers); mode="loss" is not supported')
        return self.inference_net()(inputs, data_samples, mode=mode)

    @property
    def test_cfg(self) -> dict:
        return self.inference_net().test_cfg


def _preset(name: str, doc: str, **defaults) -> type:
    """A registered subclass of :class:`PNOC` with other defaults."""

    def __init__(self, **kwargs):
        PNOC.__init__(self, **{**defaults, **kwargs})

    cls = type(name, (PNOC, ),
               dict(__init__=__init__, __doc__=doc, __module__=__name__))
    return MODELS.register_module(name=name, module=cls)


PuzzleCAM = _preset(
    'PuzzleCAM', 'Puzzle-CAM: PNOC with only the puzzle terms.',
    puzzle=True, cse=False, train_noc=False)
OCCSE = _preset(
    'OCCSE', 'OC-CSE: PNOC with CSE against a frozen ordinary classifier.',
    puzzle=False, cse=True, train_noc=False)
POC = _preset('POC', 'P-OC: Puzzle-CAM + OC-CSE (frozen OC).',
              puzzle=True, cse=True, train_noc=False)
