"""Puzzle-CAM, OC-CSE, P-OC and P-NOC as one configurable CAM trainer.

A *generator* CAM classifier is trained with up to three extra terms (the
P-NOC paper, David et al.; README "Puzzle-CAM, OC-CSE, P-OC and P-NOC"):

- **puzzle** (Puzzle-CAM, Jo & Yu): the image tiled into 4 pieces;
  classification of the merged piece CAMs and an L1 reconstruction between
  full and merged raw CAM logits masked by the hard labels (weight ``re``);
- **cse** (OC-CSE, Kweon et al.): one random present class ``r`` softly
  erased by the generator's CAM; a second classifier must recognise the
  other classes (weight ``cse``) — its gradient reaches the generator
  through the erasing mask;
- **train_noc** (P-NOC): the second classifier ("not-so-ordinary") is
  itself trained, alternately, on images hard-erased where the CAM of ``r``
  is high, against the full label set (weight ``noc``) — an adversarial
  game.

The second classifier is configured under the key of its role: ``noc`` /
``noc_checkpoint`` when it is trained (P-NOC), ``oc`` / ``oc_checkpoint``
when it is the frozen ordinary classifier (OC-CSE, P-OC). The registered
presets ``PuzzleCAM``, ``OCCSE``, ``POC`` and ``PNOC`` fix the switches that
define them; :class:`PNOCFamily` leaves every switch free for experiments.
Defaults reproduce the official code; paper↔code differences are switches
(see the README).
"""
import contextlib
from types import MappingProxyType
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import (BaseModel, ExponentialMovingAverage,
                            is_model_wrapper)
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmwsss.models.utils import (build_weight, check_align, hard_erase,
                                 merge_features, sample_one_positive,
                                 soft_erase, tile_features, training_progress)
from mmwsss.models.utils.checkpoint import load_weights, mmwsss_keys
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
#: The second classifier's config key (and module name, checkpoint prefix)
#: by whether it is trained: P-NOC's not-so-ordinary classifier, or the
#: frozen ordinary classifier of OC-CSE / P-OC.
SECOND_KEYS: Mapping[bool, str] = MappingProxyType({True: 'noc', False: 'oc'})
SECOND_ROLES: Mapping[str, str] = MappingProxyType(dict(
    noc='trains its second classifier (P-NOC\'s not-so-ordinary classifier, '
    'train_noc=True)',
    oc='keeps its second classifier frozen (the ordinary classifier of '
    'OC-CSE / P-OC, train_noc=False)'))


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
class PNOCFamily(BaseModel):
    """CAM generator trained with puzzle / CSE / NOC terms, every switch
    free (experiments such as P-NOC without the puzzle terms); the methods
    themselves are the presets below.

    Args:
        generator: CAM classifier config (the network whose CAMs are used).
        noc: config of the trained second classifier (``train_noc=True``);
            ``freeze_bn=True`` as the reference's fixed-BN mode.
        noc_checkpoint: the vanilla-CAM checkpoint that initialises the
            noc (the one config key pointing at the prerequisite run).
            None: random (tests only; logged).
        oc: config of the frozen ordinary classifier (``cse`` without
            ``train_noc``: OC-CSE, P-OC).
        oc_checkpoint: the vanilla-CAM checkpoint of the oc.
        puzzle: enable the Puzzle-CAM terms.
        cse: enable the class-specific erasing term (needs ``noc`` or
            ``oc``; without it there is no second classifier).
        train_noc: train the second classifier (P-NOC, key ``noc``); False
            keeps it frozen (OC-CSE, P-OC, key ``oc``).
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

    #: switches a preset fixes (none here)
    fixed_switches: Mapping[str, bool] = MappingProxyType({})

    def __init__(self,
                 generator: dict,
                 noc: Optional[dict] = None,
                 noc_checkpoint: Optional[str] = None,
                 oc: Optional[dict] = None,
                 oc_checkpoint: Optional[str] = None,
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
        if train_noc and not cse:
            raise ValueError('train_noc needs cse (the erased class r)')
        if noc_interval < 1:
            raise ValueError(f'noc_interval must be >= 1, got {noc_interval}')
        self.puzzle, self.cse, self.train_noc = puzzle, cse, train_noc
        given = dict(noc=(noc, noc_checkpoint), oc=(oc, oc_checkpoint))
        #: 'noc', 'oc' or None (no CSE): where the second classifier sits
        self.second_key = self._second_key(given)
        self.generator = MODELS.build(generator)
        self.second_checkpoint = None
        if self.second_key is not None:
            second_cfg, self.second_checkpoint = given[self.second_key]
            self.add_module(self.second_key, MODELS.build(second_cfg))
        self._share_normalisation()
        for name, net in (('generator', self.generator),
                          (self.second_key, self.second)):
            if hasattr(net, 'pretrained_key'):
                net.pretrained_key = f'model.{name}.pretrained'
        self.loss_cls = MODELS.build(loss)
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
        if self.second_key == 'oc':
            for p in self.second.parameters():
                p.requires_grad_(False)
            self._register_load_state_dict_pre_hook(
                _rename_old_oc_keys, with_module=True)
        self.generator_ema, self.ema_begin_iter = None, 0
        if ema is not None:
            ema = merge_options(ema, DEFAULT_EMA, 'model.ema')
            self.ema_begin_iter = int(ema['begin_iter'])
            self.generator_ema = ExponentialMovingAverage(
                self.generator, momentum=ema['momentum'],
                interval=ema['interval'],
                update_buffers=ema['update_buffers'])

    # ---------------------------------------------------------------- set-up
    def _second_key(self, given: Dict[str, tuple]) -> Optional[str]:
        """The config key of the second classifier ('noc' trained, 'oc'
        frozen, None without CSE); a config under another key is refused
        with the right one."""
        method = type(self).__name__
        set_keys = [f'model.{key}{suffix}'
                    for key, values in given.items()
                    for suffix, value in zip(('', '_checkpoint'), values)
                    if value is not None]
        if not self.cse:
            if set_keys:
                raise ValueError(
                    f'{method} has no CSE term, so no second classifier: '
                    f'remove {", ".join(set_keys)}')
            return None
        key = SECOND_KEYS[self.train_noc]
        wrong = [k for k in set_keys if not k.startswith(f'model.{key}')]
        if wrong:
            raise ValueError(
                f'{method} {SECOND_ROLES[key]}: configure it as model.{key} '
                f'and model.{key}_checkpoint, not {", ".join(wrong)}')
        if given[key][0] is None:
            raise ValueError(f'{method} needs model.{key}: it '
                             f'{SECOND_ROLES[key]}')
        return key

    @property
    def second(self) -> Optional[nn.Module]:
        """The second classifier: the trained noc (P-NOC) or the frozen oc
        (OC-CSE, P-OC); None without CSE."""
        return None if self.second_key is None else getattr(
            self, self.second_key)

    def _share_normalisation(self) -> None:
        """Tell the classifiers how this model normalises their inputs (the
        reference's TTA resize works on 8-bit images, ``resize='pil'``)."""
        mean = getattr(self.data_preprocessor, 'mean', None)
        std = getattr(self.data_preprocessor, 'std', None)
        if mean is None or std is None:
            return
        for net in (self.generator, self.second):
            if hasattr(net, 'set_tta_normalisation'):
                net.set_tta_normalisation(mean.flatten().tolist(),
                                          std.flatten().tolist())

    def train(self, mode: bool = True) -> 'PNOCFamily':
        super().train(mode)
        if self.second_key == 'oc':
            self.second.eval()  # a frozen ordinary classifier
        return self

    def init_weights(self) -> None:
        unwrap(self.generator).init_weights()
        if self.generator_ema is not None:  # start from the initial weights
            self.generator_ema.steps.zero_()
            self.generator_ema.update_parameters(unwrap(self.generator))
        if self.second_key is None:
            return
        key = f'model.{self.second_key}_checkpoint'
        if self.second_checkpoint:
            load_weights(unwrap(self.second), self.second_checkpoint, key,
                         key_map=mmwsss_keys)
        else:
            print_log(
                f'{key} is None: the second classifier starts from random '
                'weights (the methods need a trained vanilla CAM classifier '
                'there).', logger='current', level=30)

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
            # Without the leak the second classifier is frozen for this pass
            # and called unwrapped (a DDP reducer expects no gradients here).
            second = self.second if leak else unwrap(self.second)
            ctx = contextlib.nullcontext() if leak else frozen(second)
            with ctx:
                oc_logits, _ = second(erased, mode='tensor')
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
            with noc_wrapper.optim_context(self.second):
                hard = hard_erase(inputs, cams, choice, self.noc_threshold,
                                  self.hard_mask_global_norm, self.erase_rule,
                                  self.mask_align)
                noc_logits, _ = self.second(hard, mode='tensor')
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
            raise RuntimeError(f'{type(self).__name__} trains through '
                               'train_step (several optimizers); '
                               'mode="loss" is not supported')
        return self.inference_net()(inputs, data_samples, mode=mode)

    @property
    def test_cfg(self) -> dict:
        return self.inference_net().test_cfg


def _rename_old_oc_keys(module: PNOCFamily, state_dict: dict, prefix: str,
                        *args: Any) -> None:
    """Load-state-dict pre-hook of a model with a frozen oc: checkpoints of
    OC-CSE / P-OC runs made before the oc had its own key store it under
    ``noc.``; those tensors are moved to ``oc.`` (logged)."""
    old, new = f'{prefix}noc.', f'{prefix}oc.'
    if any(k.startswith(new) for k in state_dict):
        return
    moved = [k for k in list(state_dict) if k.startswith(old)]
    for k in moved:
        state_dict[new + k[len(old):]] = state_dict.pop(k)
    if moved:
        print_log(
            f'{type(module).__name__}: the checkpoint keeps the frozen '
            f'ordinary classifier under "noc." (older runs); loaded its '
            f'{len(moved)} tensors as "oc."', logger='current', level=30)


#: The registered presets, by name.
PRESETS: Dict[str, type] = {}


def _preset(name: str, summary: str, **fixed: bool) -> type:
    """A registered subclass of :class:`PNOCFamily` whose ``fixed``
    switches cannot be changed (a conflicting value is refused, naming the
    preset or class to use instead)."""

    def __init__(self, **kwargs: Any) -> None:
        for key, value in fixed.items():
            if key in kwargs and kwargs[key] != value:
                raise ValueError(_conflict(name, key, kwargs[key]))
        PNOCFamily.__init__(self, **{**kwargs, **fixed})

    switches = ', '.join(f'{k}={v}' for k, v in fixed.items())
    cls = type(name, (PNOCFamily, ), dict(
        __init__=__init__, __module__=__name__,
        __doc__=f'{name}: {summary} (:class:`PNOCFamily` with {switches}, '
        'fixed).',
        fixed_switches=MappingProxyType(fixed), summary=summary))
    PRESETS[name] = cls
    return MODELS.register_module(name=name, module=cls)


def _conflict(name: str, key: str, value: Any) -> str:
    """The refusal of ``key=value`` by preset ``name``: the preset with
    that combination of switches if there is one, else PNOCFamily."""
    fixed = PRESETS[name].fixed_switches
    wanted = {**fixed, key: value}
    others = [f'{other} for {cls.summary}' for other, cls in PRESETS.items()
              if dict(cls.fixed_switches) == wanted]
    instead = f'use {others[0]}, or ' if others else 'use '
    return (f'{name} fixes {key}={fixed[key]}; {instead}PNOCFamily to '
            'combine switches freely')


PuzzleCAM = _preset('PuzzleCAM', 'the puzzle terms alone',
                    puzzle=True, cse=False, train_noc=False)
OCCSE = _preset('OCCSE', 'CSE against a frozen ordinary classifier',
                puzzle=False, cse=True, train_noc=False)
POC = _preset('POC', 'puzzle + CSE against a frozen ordinary classifier',
              puzzle=True, cse=True, train_noc=False)
PNOC = _preset('PNOC', 'puzzle + CSE against a trained noc',
               puzzle=True, cse=True, train_noc=True)
