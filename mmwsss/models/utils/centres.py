"""Image features and class centres of a CAM classifier (W-OoD, README: W-OoD
step 1): ``f = GAP(features)``, the vector the classifier's 1x1 head sees
pooled, and ``mu_c`` = the mean ``f`` of the images labelled ``c``."""
import math
from typing import Optional, Sequence, Tuple

import torch

from mmwsss.utils.errors import DataError


def gap_features(feats: torch.Tensor, input_hw: Tuple[int, int],
                 img_shapes: Optional[Sequence[Tuple[int, int]]] = None
                 ) -> torch.Tensor:
    """Global average pooling of backbone features, over each image's own
    cells only.

    A batch padded to ``input_hw`` would average the padding's features
    into small images; the cells covering the image (``ceil(h·fh/H)`` x
    ``ceil(w·fw/W)`` of the ``fh`` x ``fw`` map) are pooled instead.

    Args:
        feats: B x D x fh x fw feature maps.
        input_hw: (H, W) of the (padded) network input.
        img_shapes: (h, w) of each image before padding; None: no padding.

    Returns:
        B x D features.
    """
    if feats.ndim != 4:
        raise ValueError(f'feats must be B x D x h x w, got '
                         f'{tuple(feats.shape)}')
    if img_shapes is None:
        return feats.mean(dim=(2, 3))
    if len(img_shapes) != len(feats):
        raise ValueError(f'{len(img_shapes)} image shapes for a batch of '
                         f'{len(feats)}')
    fh, fw = feats.shape[-2:]
    height, width = input_hw
    pooled = []
    for feat, (h, w) in zip(feats, img_shapes):
        vh = min(fh, max(1, math.ceil(h * fh / height)))
        vw = min(fw, max(1, math.ceil(w * fw / width)))
        pooled.append(feat[:, :vh, :vw].mean(dim=(1, 2)))
    return torch.stack(pooled)


def class_centres(features: torch.Tensor, labels: torch.Tensor,
                  class_names: Optional[Sequence[str]] = None
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mean feature of each class over the images labelled with it.

    A multi-label image counts for every one of its classes (the
    reference's protocol).

    Args:
        features: N x D image features.
        labels: N x C multi-hot image labels (> 0.5 counts as present).
        class_names: the C foreground class names, for the error message.

    Returns:
        (C x D centres in float64, C image counts).

    Raises:
        DataError: a class has no labelled image (its centre would be
            undefined); names the class.
    """
    if features.ndim != 2 or labels.ndim != 2 or len(features) != len(
            labels):
        raise ValueError(f'features (N x D) and labels (N x C) do not fit: '
                         f'{tuple(features.shape)} and '
                         f'{tuple(labels.shape)}')
    present = (labels > 0.5).to(torch.float64)
    counts = present.sum(0)
    missing = torch.nonzero(counts == 0).flatten().tolist()
    if missing:
        names = [class_names[i] if class_names else f'index {i}'
                 for i in missing]
        raise DataError(
            f'no image is labelled with class {", ".join(map(str, names))}; '
            'a class centre needs at least one image of the class (use the '
            'full training split)')
    centres = present.t() @ features.to(torch.float64) / counts[:, None]
    return centres, counts.to(torch.long)
