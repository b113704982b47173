"""Package layers of mmwsss: a module imports only from its own package or
from lower layers, so the sub-packages form no import cycle.

Layers, bottom to top (packages on one line are independent of each
other):

1. ``registry``, ``compat``, ``version``: the registries and the pinned
   stack's set-up;
2. ``utils``: file formats (CAM ``.npz``, saliency and indexed PNGs, atomic
   writes), image loading, palettes, CAM-to-label helpers, errors;
3. ``crf``: dense CRF;
4. ``datasets``: data sets and transforms;
5. ``models``: networks and losses;
6. ``evaluation``: metrics and map writers;
7. ``engine``: hooks, optimizer constructors, runners;
8. ``inference``: offline per-image steps (pseudo-masks, affinity labels,
   pseudo-saliency, features);
9. ``pipeline``: the stage runner of the end-to-end pipelines (it drives the
   tools as subprocesses; its results layout is what the report reads);
10. ``visualization``: panels, CAM overlays, the report;
11. ``apis``, ``synthetic``: the Python API and the glue of ``tools/``
    (argument parsing, config loading, the per-image job runner), and the
    synthetic data generator;
12. the package root ``mmwsss/__init__.py``, which imports the packages that
    fill the registries.

Module-level and function-level imports count alike, absolute and relative.

One exemption: :func:`mmwsss.utils.register_all_modules` imports
``datasets``, ``engine``, ``evaluation`` and ``models`` inside the function,
because filling every registry is its job and MMSeg users expect it in
``utils`` (``mmseg.utils.register_all_modules`` does the same). The imports
run only when it is called, after every layer can be imported, so they make
no import cycle; any other upward import in ``utils/setup_env.py`` is still
reported.
"""
import ast
import os
import os.path as osp
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

import mmwsss

#: Bottom to top; the names are the first component after ``mmwsss.``.
ROOT = '__init__'
LAYERS: Tuple[Tuple[str, ...], ...] = (
    ('registry', 'compat', 'version'),
    ('utils', ),
    ('crf', ),
    ('datasets', ),
    ('models', ),
    ('evaluation', ),
    ('engine', ),
    ('inference', ),
    ('pipeline', ),
    ('visualization', ),
    ('apis', 'synthetic'),
    (ROOT, ),
)
#: (file relative to the package, function) whose imports are not checked.
EXEMPT: Set[Tuple[str, str]] = {
    ('utils/setup_env.py', 'register_all_modules'),
}


def _module_name(package: str, rel_path: str) -> Tuple[str, bool]:
    """(dotted module name, is a package ``__init__``) of a file."""
    parts = [package] + rel_path[:-len('.py')].split('/')
    is_init = parts[-1] == '__init__'
    if is_init:
        parts = parts[:-1]
    return '.'.join(parts), is_init


def _targets(node: ast.AST, module: str, is_init: bool) -> Iterator[str]:
    """Absolute names of what an import statement imports."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    assert isinstance(node, ast.ImportFrom)
    base = node.module or ''
    if node.level:
        package = module.split('.')
        if not is_init:
            package = package[:-1]
        package = package[:len(package) - node.level + 1]
        base = '.'.join(package + ([base] if base else []))
    # ``from pkg import name``: name may be a sub-package
    for alias in node.names:
        yield f'{base}.{alias.name}'


def _imports(tree: ast.AST, exempt: Set[str]) -> Iterator[ast.AST]:
    """Every import statement, leaving out those inside the functions named
    in ``exempt`` (at any depth)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and node.name in exempt:
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _imported_package(target: str, package: str,
                      level: Dict[str, int]) -> Optional[str]:
    """The layer entry ``target`` (an absolute module or name) belongs to:
    a sub-package or top-level module, :data:`ROOT` for the package itself
    and names defined in its ``__init__`` (``from mmwsss import
    __version__``), None outside the package."""
    parts = target.split('.')
    if parts[0] != package:
        return None
    if len(parts) == 1 or (len(parts) == 2 and parts[1] not in level):
        return ROOT
    return parts[1]


def layer_violations(package_dir: str,
                     layers: Sequence[Sequence[str]],
                     exempt: Optional[Set[Tuple[str, str]]] = None
                     ) -> List[str]:
    """``'file:line: ...'`` for every import in ``package_dir``'s modules
    that reaches a higher layer (or another package of the same layer), and
    for files or imported packages missing from ``layers``. Files are named
    from the package's parent folder (``mmwsss/utils/io.py``)."""
    package = osp.basename(osp.normpath(package_dir))
    level: Dict[str, int] = {
        name: i
        for i, names in enumerate(layers) for name in names
    }
    exempt = exempt or set()
    problems: List[Tuple[str, int, str]] = []
    for folder, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        for file in sorted(f for f in files if f.endswith('.py')):
            rel = osp.relpath(osp.join(folder, file),
                              package_dir).replace(os.sep, '/')
            shown = f'{package}/{rel}'
            owner = rel.split('/')[0]
            owner = owner[:-len('.py')] if owner.endswith('.py') else owner
            if owner not in level:
                problems.append((shown, 0, f'"{owner}" is in no layer'))
                continue
            module, is_init = _module_name(package, rel)
            with open(osp.join(folder, file), encoding='utf-8') as f:
                tree = ast.parse(f.read(), shown)
            skip = {func for file_, func in exempt if file_ == rel}
            for node in _imports(tree, skip):
                for target in _targets(node, module, is_init):
                    used = _imported_package(target, package, level)
                    if used is None or used == owner:
                        continue
                    if used not in level:
                        problems.append((shown, node.lineno,
                                         f'imports {target}, in no layer'))
                    elif level[used] >= level[owner]:
                        problems.append(
                            (shown, node.lineno, f'"{ast.unparse(node)}": '
                             f'{owner} (layer {level[owner] + 1}) imports '
                             f'{used} (layer {level[used] + 1})'))
    return [
        f'{path}:{line}: {what}' if line else f'{path}: {what}'
        for path, line, what in sorted(set(problems))
    ]


def test_mmwsss_imports_follow_the_layers():
    package_dir = osp.dirname(mmwsss.__file__)
    problems = layer_violations(package_dir, LAYERS, EXEMPT)
    assert not problems, 'imports against the layer order:\n' + '\n'.join(
        problems)


def test_every_layer_entry_exists():
    package_dir = osp.dirname(mmwsss.__file__)
    for names in LAYERS:
        for name in names:
            assert osp.isfile(osp.join(package_dir, f'{name}.py')) or \
                osp.isdir(osp.join(package_dir, name)), \
                f'LAYERS names {name}, which mmwsss does not have'


def test_every_exemption_is_needed():
    """A stale exemption would let a new upward import through unseen."""
    package_dir = osp.dirname(mmwsss.__file__)
    for rel, func in EXEMPT:
        problems = layer_violations(package_dir, LAYERS,
                                    EXEMPT - {(rel, func)})
        assert any(p.startswith(f'mmwsss/{rel}:') for p in problems), \
            f'{rel}: {func} imports no higher layer; drop it from EXEMPT'


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_checker_reports_upward_imports(tmp_path):
    pkg = tmp_path / 'fakepkg'
    _write(pkg, '__init__.py', 'from . import high\n')
    _write(pkg, 'low/__init__.py', 'from .io import read\n')
    _write(pkg, 'low/io.py', 'import os\n\n\ndef read():\n'
           '    from fakepkg.high.api import run\n    return run\n')
    _write(pkg, 'low/other.py',
           'from ..high import api\nimport fakepkg.high.api as api2\n')
    _write(pkg, 'mid.py', 'from fakepkg.low.io import read\n'
           'from fakepkg import low\nimport fakepkg.low\n')
    _write(pkg, 'high/__init__.py', 'from . import api\n')
    _write(pkg, 'high/api.py', 'from ..low import io\nfrom ..mid import x\n'
           'def run():\n    from fakepkg import __version__\n')
    _write(pkg, 'stray.py', '')
    layers = (('low', ), ('mid', ), ('high', ), (ROOT, ))
    problems = layer_violations(str(pkg), layers)
    assert problems == [
        'fakepkg/high/api.py:4: "from fakepkg import __version__": high '
        '(layer 3) imports __init__ (layer 4)',
        'fakepkg/low/io.py:5: "from fakepkg.high.api import run": low '
        '(layer 1) imports high (layer 3)',
        'fakepkg/low/other.py:1: "from ..high import api": low (layer 1) '
        'imports high (layer 3)',
        'fakepkg/low/other.py:2: "import fakepkg.high.api as api2": low '
        '(layer 1) imports high (layer 3)',
        'fakepkg/stray.py: "stray" is in no layer',
    ]
    # the exemption covers that one function only
    exempt = {('low/io.py', 'read')}
    assert layer_violations(str(pkg), layers, exempt) == [
        p for p in problems if not p.startswith('fakepkg/low/io.py')
    ]


def test_checker_reports_imports_within_a_layer(tmp_path):
    pkg = tmp_path / 'fakepkg'
    _write(pkg, '__init__.py', '')
    _write(pkg, 'a.py', 'from . import b\n')
    _write(pkg, 'b.py', '')
    problems = layer_violations(str(pkg), (('a', 'b'), (ROOT, )))
    assert problems == [
        'fakepkg/a.py:1: "from . import b": a (layer 1) imports b (layer 1)'
    ]
