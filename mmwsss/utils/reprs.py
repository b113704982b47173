"""One ``__repr__`` format for the configurable objects of mmwsss."""
from typing import Any


def format_repr(obj: Any, *names: str) -> str:
    """``ClassName(name=value, ...)`` of the attributes ``names`` of
    ``obj``, each value as its ``repr``, so the line reads back as the
    config that built it."""
    args = ', '.join(f'{name}={getattr(obj, name)!r}' for name in names)
    return f'{type(obj).__name__}({args})'
