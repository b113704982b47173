"""Install mmwsss. The heavy, ordered steps (torch, mmcv with ops) live in
``tools/install.sh``; this file declares the runtime requirements."""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = [re.sub(r'#.*', '', line).strip() for line in f]
    return [line for line in lines if line]


def read_version() -> str:
    with open(osp.join(HERE, 'mmwsss', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


setup(
    name='mmwsss',
    version=read_version(),
    description='Weakly supervised semantic segmentation (P-NOC, C2AM-H, '
    'AffinityNet, ...) as an MMSegmentation 1.x plugin',
    long_description=open(osp.join(HERE, 'README.md')).read()
    if osp.exists(osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.1', 'mmcv>=2.0.0rc4,<2.2.0', *read_requirements('runtime')
    ],
    extras_require={'tests': read_requirements('tests')},
    license='Apache-2.0',
)
