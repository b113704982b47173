"""Puzzle-CAM tiling: split images into a 2×2 grid of pieces batched along
the batch axis, and merge piece outputs back (README: P-NOC)."""
import torch


def tile_features(x: torch.Tensor, num_pieces: int = 4) -> torch.Tensor:
    """(B, C, H, W) → (4B, C, H/2, W/2), laid out [TL…, TR…, BL…, BR…].

    Only 4 pieces (a 2×2 grid) are supported, as in Puzzle-CAM.
    """
    if num_pieces != 4:
        raise ValueError(f'only 4 puzzle pieces are supported, got '
                         f'{num_pieces}')
    h, w = x.shape[-2:]
    if h % 2 or w % 2:
        raise ValueError(f'puzzle tiling needs an even size, got {h}×{w}')
    top, bottom = x.split(h // 2, dim=-2)
    pieces = [*top.split(w // 2, dim=-1), *bottom.split(w // 2, dim=-1)]
    return torch.cat(pieces, dim=0)


def merge_features(x: torch.Tensor, num_pieces: int = 4) -> torch.Tensor:
    """Inverse of :func:`tile_features`: (4B, C, h, w) → (B, C, 2h, 2w)."""
    if num_pieces != 4:
        raise ValueError(f'only 4 puzzle pieces are supported, got '
                         f'{num_pieces}')
    if x.shape[0] % 4:
        raise ValueError(f'batch {x.shape[0]} is not a multiple of 4 pieces')
    tl, tr, bl, br = x.chunk(4, dim=0)
    return torch.cat(
        [torch.cat([tl, tr], dim=-1),
         torch.cat([bl, br], dim=-1)], dim=-2)
