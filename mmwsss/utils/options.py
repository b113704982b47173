"""Option dicts of the models (``test_cfg``, ``hint``, ``ema``, ...)."""
from typing import Mapping, Optional


def merge_options(given: Optional[Mapping], defaults: Mapping,
                  what: str) -> dict:
    """``defaults`` updated with ``given``; a key ``defaults`` lacks (a
    typo in a config) raises instead of being silently ignored.

    Raises:
        KeyError: ``'unknown {what} keys [...]; valid: [...]'``.
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise KeyError(f'unknown {what} keys {unknown}; valid: '
                       f'{sorted(defaults)}')
    return {**defaults, **given}
