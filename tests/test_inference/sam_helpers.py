"""A randomly initialised tiny SAM (64 px input, one ViT block), for the
call path of segment-anything's automatic mask generator in a fraction of
a second on CPU. Its masks are noise; only their format is checked."""
from typing import Any, Dict

import torch

#: Generator settings that keep a random model's masks (its quality scores
#: are meaningless) and make few of them.
TINY_GENERATOR_SETTINGS: Dict[str, Any] = dict(
    points_per_side=2, pred_iou_thresh=0.0, stability_score_thresh=0.0,
    box_nms_thresh=1.0)


def tiny_sam(embed_dim: int = 16, seed: int = 0) -> Any:
    """A ``segment_anything.modeling.Sam`` with tiny parts."""
    from segment_anything.modeling import (ImageEncoderViT, MaskDecoder,
                                           PromptEncoder, Sam,
                                           TwoWayTransformer)
    torch.manual_seed(seed)
    size, patch = 64, 16
    return Sam(
        image_encoder=ImageEncoderViT(
            img_size=size, patch_size=patch, embed_dim=32, depth=1,
            num_heads=2, out_chans=embed_dim, window_size=0),
        prompt_encoder=PromptEncoder(
            embed_dim=embed_dim,
            image_embedding_size=(size // patch, size // patch),
            input_image_size=(size, size), mask_in_chans=4),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=1, embedding_dim=embed_dim, mlp_dim=32, num_heads=2),
            transformer_dim=embed_dim, iou_head_depth=1,
            iou_head_hidden_dim=8)).eval()


def tiny_checkpoint(path: str, embed_dim: int = 16) -> str:
    """Save a tiny SAM's state dict at ``path`` (a stand-in for
    ``sam_vit_*.pth``) and return the path."""
    torch.save(tiny_sam(embed_dim, seed=1).state_dict(), path)
    return path
