"""benchmarks/woods_step.py runs a W-OoD train step on CPU (tiny config,
random inputs and centres, no data or checkpoint) and prints its figures."""
import os.path as osp
import re

import pytest

from mmwsss.models.classifiers import woods
from tests.conftest import REPO, load_benchmark

TINY = osp.join(REPO, 'configs', 'woods', 'woods_tiny_synthetic.py')


def bench():
    return load_benchmark('woods_step')


def test_woods_step_prints_its_figures(capsys):
    climb = woods.adversarial_climb
    figures = bench().main([
        '--config', TINY, '--batch', '2', '--ood-batch', '3', '--crop',
        '32', '--steps', '2', '--warmup', '1', '--device', 'cpu'])
    assert set(figures) == {'images_per_s', 'id_images_per_s',
                            'ms_per_step', 'climb_ms_per_step',
                            'climb_share', 'peak_mib'}
    assert figures['images_per_s'] == pytest.approx(
        figures['id_images_per_s'] * 5 / 2)
    assert 0 < figures['climb_ms_per_step'] < figures['ms_per_step']
    assert 0 < figures['climb_share'] < 1 and figures['peak_mib'] > 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.search(r'adversarial climb of the OoD batch: \d+ ms/step '
                     r'\(\d+ % of the step\)', lines[-2])
    assert re.search(r'[\d.]+ images/s \(ID \+ OoD; [\d.]+ ID images/s\), '
                     r'\d+ ms/step, batch 2\+3, crop 32, device cpu, '
                     r'amp=False \(SumAccumOptimWrapper\).*peak process '
                     r'RSS \d+ MiB', lines[-1])
    assert woods.adversarial_climb is climb  # the timer is removed


def test_woods_step_refuses_other_configs():
    with pytest.raises(SystemExit):
        bench().main(['--config', osp.join(REPO, 'configs', 'cam',
                                           'cam_tiny_synthetic.py'),
                      '--steps', '1', '--device', 'cpu'])
