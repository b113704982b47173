"""Loading transforms that tolerate unlabelled (mask-less) samples."""
from mmseg.datasets.transforms import LoadAnnotations

from mmwsss.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadOptionalAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` that skips samples without a mask.

    WSSS datasets carry a ground-truth mask only for some images (VOC
    ``train_aug`` vs ``train``; unlabelled custom data). A missing
    ``seg_map_path`` (None) is not an error; a path that does not exist is
    (the dataset already checked it exists when it set the path).
    """

    def _load_seg_map(self, results: dict) -> None:
        if results.get('seg_map_path') is None:
            return
        super()._load_seg_map(results)
