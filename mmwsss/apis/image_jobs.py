"""Per-image offline jobs, optionally on a process pool.

The CPU-bound tools (``tools/make_pseudo_masks.py``,
``make_pseudo_saliency.py``, ``make_affinity_labels.py``, ``eval_cams.py``,
``eval_saliency.py``) share this shape: list the images, run a picklable
job object on each, fail naming the image.
"""
import glob
import os.path as osp
from abc import ABC, abstractmethod
from multiprocessing import Pool
from typing import Any, Callable, List, Sequence, Tuple, Type

import numpy as np
from tqdm import tqdm

from mmwsss.utils.io import load_rgb


class ImageJob(ABC):
    """The work on one image; picklable, for worker processes.

    Subclasses implement :meth:`run`. Calling the job runs it, re-raising
    any error not in :attr:`passthrough` as a ``RuntimeError`` that names
    the image (``passthrough`` errors name their file already).
    """

    passthrough: Tuple[Type[BaseException], ...] = (FileNotFoundError, )

    @abstractmethod
    def run(self, item: Any) -> Any:
        """The result of one work item."""

    @staticmethod
    def item_id(item: Any) -> str:
        """The image id of a work item (an id, or a tuple starting with
        one)."""
        return item[0] if isinstance(item, tuple) else item

    def __call__(self, item: Any) -> Any:
        try:
            return self.run(item)
        except self.passthrough:
            raise
        except Exception as err:
            raise RuntimeError(f'{self.item_id(item)}: '
                               f'{type(err).__name__}: {err}') from err


def list_ids(folder: str, suffix: str) -> List[str]:
    """Sorted ids of the ``{id}{suffix}`` files in ``folder``."""
    files = glob.glob(osp.join(glob.escape(folder), '*' + suffix))
    return sorted(osp.basename(f)[:-len(suffix)] for f in files)


def run_jobs(job: Callable[[Any], Any], todo: Sequence[Any], workers: int,
             desc: str, chunksize: int = 4) -> List[Any]:
    """``[job(item) for item in todo]``, in that order, on ``workers``
    processes when more than one, with a progress bar."""
    if workers > 1 and len(todo) > 1:
        with Pool(workers) as pool:
            return list(
                tqdm(pool.imap(job, todo, chunksize=chunksize),
                     total=len(todo), desc=desc))
    return [job(item) for item in tqdm(todo, desc=desc)]


def load_matching_image(img_path: str, size: Tuple[int, int], what: str,
                        fix: str = 'check --img-dir and --img-suffix'
                        ) -> np.ndarray:
    """The H×W×3 RGB image of ``img_path``, which must be ``size`` (H, W),
    the size of the map it goes with (named by ``what``).

    Raises:
        FileNotFoundError: no such image (the message says ``fix``).
        ValueError: the image and the map differ in size.
    """
    if not osp.isfile(img_path):
        raise FileNotFoundError(f'image not found: {img_path} ({fix})')
    image = load_rgb(img_path)
    if image.shape[:2] != tuple(size):
        raise ValueError(f'{img_path}: image size {image.shape[:2]} != '
                         f'{what} size {tuple(size)}; were the maps made '
                         'from these images?')
    return image
