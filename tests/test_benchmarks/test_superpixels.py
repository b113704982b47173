"""benchmarks/superpixels.py makes superpixels of small shipped photos and
synthetic images with 1 and 2 workers and prints its figures."""
import re

import pytest

from tests.conftest import load_benchmark


def bench():
    return load_benchmark('superpixels')


@pytest.mark.parametrize('source', ['photos', 'synthetic'])
def test_superpixels_benchmark_prints_its_figures(capsys, source):
    figures = bench().main(['--source', source, '--height', '60', '--width',
                            '80', '--images', '2', '--workers', '1', '2',
                            '--max-regions', '8'])
    assert set(figures) == {'felzenszwalb_ms', 'merge_ms', 'regions_before',
                            'regions_after', 'images_per_s_1',
                            'images_per_s_2'}
    assert figures['regions_after'] <= 8
    assert figures['regions_after'] <= figures['regions_before']
    assert figures['images_per_s_1'] > 0 and figures['images_per_s_2'] > 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.search(rf'in process \(60x80, {source}\): Felzenszwalb \d+ '
                     r'ms/image, merge \d+ ms/image; regions \d+ -> [\d.]+ ',
                     lines[0])
    for line, workers in zip(lines[1:], (1, 2)):
        assert re.search(rf'[\d.]+ images/s with {workers} worker '
                         rf'process\(es\) \(60x80, {source}, 2 images', line)
