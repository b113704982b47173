"""The per-sample rows of the report: image, ground truth and what each
pipeline stage made of it (CAMs, random walk, pseudo-mask, predictions),
read from a work dir and a VOC-layout data root."""
import os
import os.path as osp
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from mmwsss.utils.cam_io import CAM_SUFFIX, CAMFileError, read_cam
from .cam_overlay import class_name, heatmap_overlay, max_cam
from .colorize import colorize_label
from .panels import Tile

#: Sub-folders of a stage folder tried first for its maps (the pipeline
#: writes ``cams/{split}``; the train split is the one with pseudo-masks).
PREFERRED_SPLITS = ('train_aug', 'train')


class DataLayout(NamedTuple):
    """Where a VOC-layout data set keeps its files."""
    root: str
    img_dir: str = 'JPEGImages'
    img_suffix: str = '.jpg'
    seg_dir: str = 'SegmentationClass'  # index PNGs
    split_dir: str = 'ImageSets/Segmentation'

    def image(self, img_id: str) -> str:
        return osp.join(self.root, self.img_dir, img_id + self.img_suffix)

    def split_file(self, split: str) -> str:
        return osp.join(self.root, self.split_dir, f'{split}.txt')


class Column(NamedTuple):
    """One column of a sample grid: ``kind`` 'label' (a label PNG) or
    'cam' (a CAM file, drawn as the heat map of its per-pixel maximum),
    looked up by image id in ``folders`` in order."""
    caption: str
    kind: str
    folders: Tuple[str, ...]

    def path(self, img_id: str) -> Optional[str]:
        suffix = CAM_SUFFIX if self.kind == 'cam' else '.png'
        for folder in self.folders:
            candidate = osp.join(folder, img_id + suffix)
            if osp.isfile(candidate):
                return candidate
        return None


def gt_column(layout: DataLayout) -> Column:
    """The ground-truth column (``{root}/{seg_dir}/{id}.png``)."""
    return Column('GT', 'label', (osp.join(layout.root, layout.seg_dir), ))


def has_files(folder: str, suffix: str) -> bool:
    """Whether ``folder`` holds at least one ``*{suffix}`` file."""
    return osp.isdir(folder) and any(
        name.endswith(suffix) for name in os.listdir(folder))


def find_map_dir(folder: str, suffix: str) -> Optional[str]:
    """``folder`` when it holds ``*{suffix}`` files, else its sub-folder
    that does (:data:`PREFERRED_SPLITS` first, then by name), else None."""
    if has_files(folder, suffix):
        return folder
    if not osp.isdir(folder):
        return None
    order = {name: i for i, name in enumerate(PREFERRED_SPLITS)}
    subs = sorted(os.listdir(folder),
                  key=lambda n: (order.get(n, len(order)), n))
    for name in subs:
        if has_files(osp.join(folder, name), suffix):
            return osp.join(folder, name)
    return None


def prediction_dirs(stage_dir: str) -> Tuple[str, ...]:
    """``{stage_dir}/pred*`` folders holding PNGs (``tools/test.py --out``),
    by name."""
    if not osp.isdir(stage_dir):
        return ()
    return tuple(
        osp.join(stage_dir, name) for name in sorted(os.listdir(stage_dir))
        if name.startswith('pred') and has_files(
            osp.join(stage_dir, name), '.png'))


def read_split(path: str) -> List[str]:
    """Image ids of a split list (first token of each non-empty line)."""
    with open(path) as f:
        return [line.split()[0] for line in f if line.strip()]


def read_rgb(path: str) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert('RGB'))


def read_label(path: str) -> np.ndarray:
    """Class ids of an index PNG (palette or grey)."""
    with Image.open(path) as img:
        if img.mode not in ('P', 'L', '1', 'I', 'I;16'):
            raise ValueError(f'{path}: not an index map (mode {img.mode})')
        return np.asarray(img).astype(np.int64)


def cam_tile(image: np.ndarray, path: str, caption: str,
             class_names: Sequence[str]) -> Tile:
    """(caption naming the classes, heat-map overlay of the CAM file's
    per-pixel maximum)."""
    data = read_cam(path)
    names = ', '.join(class_name(class_names, k) for k in data.keys)
    return (f'{caption}: {names}' if names else f'{caption}: none',
            heatmap_overlay(image, max_cam(data.cams)))


def sample_tiles(img_id: str, layout: DataLayout,
                 columns: Sequence[Column], class_names: Sequence[str],
                 palette: Optional[np.ndarray] = None) -> List[Tile]:
    """The tiles of one sample: the image, then one per column; a missing
    or unreadable input becomes a placeholder whose caption says so.

    Raises:
        FileNotFoundError: the image itself is missing.
    """
    image = read_rgb(layout.image(img_id))
    tiles: List[Tile] = [('image', image)]
    for column in columns:
        path = column.path(img_id)
        if path is None:
            tiles.append((f'{column.caption} (missing)', None))
            continue
        try:
            if column.kind == 'cam':
                tiles.append(cam_tile(image, path, column.caption,
                                      class_names))
            else:
                tiles.append((column.caption,
                              colorize_label(read_label(path), palette)))
        except (OSError, ValueError, CAMFileError):
            tiles.append((f'{column.caption} (unreadable)', None))
    return tiles
