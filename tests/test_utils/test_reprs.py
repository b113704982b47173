from mmwsss.datasets.transforms.processing import FixedResize
from mmwsss.utils.reprs import format_repr


class Thing:

    def __init__(self) -> None:
        self.size = (2, 3)
        self.mode = 'bilinear'
        self.scale = None


def test_format_repr_names_the_class_and_reprs_the_values():
    assert format_repr(Thing(), 'size', 'mode', 'scale') == \
        "Thing(size=(2, 3), mode='bilinear', scale=None)"
    assert format_repr(Thing()) == 'Thing()'
    assert repr(FixedResize(5)) == \
        "FixedResize(size=(5, 5), interpolation='bilinear')"
