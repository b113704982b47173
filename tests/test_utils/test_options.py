"""merge_options: defaults, overrides and a clear error for typos."""
import pytest

from mmwsss.utils import merge_options


def test_merge_options():
    defaults = dict(a=1, b=2)
    assert merge_options(None, defaults, 'x') == defaults
    assert merge_options(dict(b=3), defaults, 'x') == dict(a=1, b=3)
    assert defaults == dict(a=1, b=2)  # not modified
    with pytest.raises(KeyError, match=r"unknown model.ema keys \['c'\]; "
                       r"valid: \['a', 'b'\]"):
        merge_options(dict(c=0), defaults, 'model.ema')
