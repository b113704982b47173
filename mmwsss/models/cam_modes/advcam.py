"""AdvCAM: anti-adversarial CAM refinement (Lee et al., CVPR 2021), the seed
step of W-OoD (README: AdvCAM).

For each TTA scale and each present class ``c`` the image and its flip are
perturbed for ``T`` iterations so that class ``c`` scores higher, and the
GradCAMs of all iterations are summed. At iteration ``t`` (``x_0`` the
image pair):

1. GradCAM on the last backbone stage ``F`` (the features that feed the
   head): the gradient ``g`` of ``Σ_p ReLU(CAM_c)`` (global *sum* pooling)
   w.r.t. ``F``; channel weights ``w_k = Σ_p g_k / #(g > 0)``, the count
   taken over the whole flip pair's gradient (all channels and positions);
   ``A_t = ReLU(Σ_k w_k F_k)`` per view, the flipped view flipped back and
   added. The weights are constants (no second-order gradient).
2. ``A += A_t``.
3. ``J = z_c − Σ_{k≠c} z_k − reg · Σ_p |A_t − A_0| · 1[A_t / max A_t > 0.5]``
   with ``z = GAP(ReLU(CAM))`` summed over the two views; the mask is a
   constant.
4. ``x ← clamp(x + step · ∇_x J / max|∇_x J|, min x, max x)``, the maximum,
   minimum and maximum taken over the class's image pair (both views).

Scale 0.5 runs ``T // 2`` iterations (13 for 27) and its map is weighted
×2. Finally the scales are summed (full resolution and stride-4 grid, as the
plain CAM) and :meth:`CAMClassifier.predict` max-normalises each class.

Reference quirks, kept by default (project rule: defaults reproduce the
official code, which made the published numbers; paper↔code differences
are documented switches):

- ``weight_leak=True``: the reference processes scale 0.5 first and never
  resets its ×2 multiplier, so *every* scale is weighted ×2, i.e. after the
  per-class max normalisation all scales count equally.
  ``weight_leak=False`` gives the evident intent: only scale 0.5 counts
  double, compensating for its halved iterations.
- The halving rule for ``iterations`` T at a reduced scale: T > 10 → T // 2
  iterations, ×2; T < 6 → T, ×1; otherwise 5, ×1.
- ``Σ_{k≠c}`` runs over *all* other classes, present ones included.
- The image and its flip are perturbed independently (each by its own
  gradient), so they stop being mirror images after the first step.

Batching: the reference handles one class at a time. Here ``class_batch``
classes (all by default) go through one forward/backward pass as a batch of
``2·class_batch`` images; every quantity above is computed per class (with
BatchNorm in eval mode the batch elements do not interact), so the maps
equal the one-class-at-a-time ones to float tolerance
(``tests/test_models/test_advcam.py``). ``class_batch=1`` bounds the
memory to the reference's.

The last iteration's image update is skipped: the reference computes it but
never uses it.
"""
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from mmwsss.models.utils import ScaleSum, normalised_ascent, strided_size
from mmwsss.utils.cam_utils import normalize_cam
from .base import CAM_MODES, CAMMode, CAMResult

if TYPE_CHECKING:  # pragma: no cover
    from mmwsss.models.classifiers import CAMClassifier


def reduced_iterations(iterations: int) -> Tuple[int, float]:
    """(iterations, map weight) of a reduced scale (the reference's 0.5):
    ``T > 10 → (T // 2, 2)``, ``T < 6 → (T, 1)``, else ``(5, 1)``."""
    if iterations > 10:
        return iterations // 2, 2.0
    if iterations < 6:
        return iterations, 1.0
    return 5, 1.0


@CAM_MODES.register_module()
class AdvCAM(CAMMode):
    """Anti-adversarial CAM refinement (see the module docstring).

    Args:
        iterations: adversarial iterations T per class at a full scale
            (reference 27).
        step: largest change of any input value per iteration (0.08).
        reg: weight of the penalty on changes of already-activated
            regions (7).
        score_th: a region counts as activated where ``A_t / max A_t``
            exceeds this (0.5).
        reduced_scales: TTA scales run with :func:`reduced_iterations`
            (the reference: 0.5).
        weight_leak: the reference's ×2 leak into all scales (True) or ×2
            for the reduced scales only (False); see the module docstring.
        class_batch: classes per forward/backward pass; None: all present
            classes of an image at once; 1: one at a time (the reference).
    """

    def __init__(self,
                 iterations: int = 27,
                 step: float = 0.08,
                 reg: float = 7.0,
                 score_th: float = 0.5,
                 reduced_scales: Sequence[float] = (0.5, ),
                 weight_leak: bool = True,
                 class_batch: Optional[int] = None) -> None:
        if int(iterations) != iterations or iterations < 1:
            raise ValueError(f'iterations must be an integer >= 1, got '
                             f'{iterations}')
        if step < 0:
            raise ValueError(f'step must be >= 0, got {step}')
        if class_batch is not None and (int(class_batch) != class_batch
                                        or class_batch < 1):
            raise ValueError(f'class_batch must be None (all classes) or an '
                             f'integer >= 1, got {class_batch}')
        self.iterations = int(iterations)
        self.step = float(step)
        self.reg = float(reg)
        self.score_th = float(score_th)
        self.reduced_scales = tuple(float(s) for s in reduced_scales)
        self.weight_leak = bool(weight_leak)
        self.class_batch = None if class_batch is None else int(class_batch)

    def schedule(self, scales: Sequence[float]
                 ) -> List[Tuple[float, int, float]]:
        """(scale, iterations, map weight) of every TTA scale."""
        few, mul = reduced_iterations(self.iterations)
        leak = self.weight_leak and any(s in self.reduced_scales
                                        for s in scales)
        return [(s, few, mul) if s in self.reduced_scales else
                (s, self.iterations, mul if leak else 1.0) for s in scales]

    def __call__(self, model: 'CAMClassifier', inputs: torch.Tensor,
                 data_samples: Optional[Sequence] = None) -> CAMResult:
        if torch.is_inference_mode_enabled():
            raise RuntimeError(
                'AdvCAM needs gradients w.r.t. the image: call predict '
                'under torch.no_grad() (as mmengine\'s test loop does), not '
                'torch.inference_mode()')
        cfg = model.test_cfg
        with torch.no_grad():
            logits = model.pool(model.forward_cam(inputs))
        resize = model.tta_resize()
        size = inputs.shape[-2:]
        stride4 = cfg['coarse_stride']
        cams = inputs.new_zeros((len(inputs), model.num_classes, *size))
        coarse = inputs.new_zeros(
            (len(inputs), model.num_classes,
             *strided_size(size, stride4))) if stride4 else None
        for i in range(len(inputs)):
            sample = None if data_samples is None else data_samples[i]
            keys = model.class_keys(sample, logits[i])
            if not len(keys):
                continue
            acc = ScaleSum(size, cfg['stride'], cfg['align'], stride4,
                           cfg['coarse_align'])
            for scale, iterations, weight in self.schedule(cfg['scales']):
                image = resize(inputs[i:i + 1], scale)
                maps = torch.cat([
                    self.refine(model, image, chunk, iterations, cfg['flip'])
                    for chunk in keys.split(self.class_batch or len(keys))
                ])
                acc.add(maps[None] * weight, scale)
            out = acc.result()
            full, strided = out if stride4 else (out, None)
            cams[i, keys] = full[0]
            if stride4:
                coarse[i, keys] = strided[0]
        return cams, logits, coarse

    def refine(self, model: 'CAMClassifier', image: torch.Tensor,
               classes: torch.Tensor, iterations: int,
               flip: bool = True) -> torch.Tensor:
        """Summed GradCAMs of ``iterations`` anti-adversarial steps of one
        image (1×3×h×w) for each of ``classes`` (n, 0-based), batched.

        Returns:
            (n, h', w') maps at the backbone's output stride, the flipped
            view merged in.
        """
        n, views = len(classes), 2 if flip else 1
        pair = torch.cat([image, image.flip(-1)]) if flip else image
        x = pair.detach().repeat(n, 1, 1, 1)  # class-major: c0 v0, c0 v1, ..
        target = classes.to(x.device).repeat_interleave(views)[:, None]
        total = initial = None
        for t in range(iterations):
            with torch.enable_grad():
                x.requires_grad_(True)
                feats = model.extract_feat(x)
                active = F.relu(model.head(feats))
                regions = self._gradcam(feats, active, target, n, views)
                if t == 0:
                    initial = regions.detach()
                total = regions.detach() if total is None \
                    else total + regions.detach()
                if t == iterations - 1:  # its update would go unused
                    break
                objective = self._objective(active, target, regions,
                                            initial)
                grad, = torch.autograd.grad(objective, x)
            x = normalised_ascent(x, grad, self.step, groups=n)
        return total

    @staticmethod
    def _gradcam(feats: torch.Tensor, active: torch.Tensor,
                 target: torch.Tensor, n: int, views: int) -> torch.Tensor:
        """GradCAM of each image's target class on ``feats``, the views of
        each class merged: (n, h', w'), differentiable w.r.t. ``feats``."""
        score = active.sum(dim=(-2, -1)).gather(1, target).sum()
        grads, = torch.autograd.grad(score, feats, retain_graph=True)
        positive = (grads > 0).reshape(n, -1).sum(1).repeat_interleave(views)
        weights = grads.sum(dim=(-2, -1)) / (positive[:, None] + 1e-12)
        maps = F.relu((feats * weights[..., None, None]).sum(1))
        maps = maps.reshape(n, views, *maps.shape[-2:])
        return maps[:, 0] + maps[:, 1].flip(-1) if views == 2 else maps[:, 0]

    def _objective(self, active: torch.Tensor, target: torch.Tensor,
                   regions: torch.Tensor,
                   initial: torch.Tensor) -> torch.Tensor:
        """``Σ_classes [Σ_views (z_c − Σ_{k≠c} z_k) − reg · L_AD]``: each
        class's own objective, summed (their gradients do not mix)."""
        logits = active.mean(dim=(-2, -1))
        margin = 2 * logits.gather(1, target).squeeze(1) - logits.sum(1)
        return margin.sum() - self.reg * self.regulariser(regions,
                                                          initial).sum()

    def regulariser(self, regions: torch.Tensor,
                    initial: torch.Tensor) -> torch.Tensor:
        """``Σ_p |A_t − A_0| · 1[A_t / max A_t > score_th]`` per class (n,),
        the mask a constant: changes inside the regions already activated
        are penalised, so the perturbation spreads the map instead."""
        ratio = normalize_cam(regions.detach(), eps=0, relu=False)
        mask = ratio > self.score_th
        return ((regions - initial).abs() * mask).flatten(1).sum(1)
