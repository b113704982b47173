"""Threshold curves (mIoU against the background threshold) of the CAM
evaluations, as PNG plots.

``tools/eval_cams.py --curve-out FILE`` writes the curve JSON: the swept
``thresholds`` with one value per threshold for ``mIoU`` (and
``mIoU_fg``, ``mPrecision``, ``mRecall``), plus ``best_threshold`` and
``fixed_threshold``. Plots use matplotlib's object API on the Agg canvas:
no pyplot, no global backend switch, no display needed.
"""
import io
from typing import Dict, List, Optional

from mmwsss.utils.io import atomic_write_bytes

#: Per-threshold series drawn, with their legend labels.
SERIES = (('mIoU', 'mIoU'), ('mIoU_fg', 'mIoU (foreground classes)'),
          ('mPrecision', 'mean precision'), ('mRecall', 'mean recall'))


def is_curve(metrics: dict) -> bool:
    """Whether a metrics JSON is a threshold curve: ``thresholds`` and an
    ``mIoU`` list of the same length."""
    thresholds = metrics.get('thresholds')
    miou = metrics.get('mIoU')
    return (isinstance(thresholds, list) and isinstance(miou, list)
            and len(thresholds) == len(miou) > 0)


def find_curves(metrics: Dict[str, dict]) -> Dict[str, dict]:
    """The threshold curves among ``{name: metrics JSON}``, by name."""
    return {name: m for name, m in sorted(metrics.items()) if is_curve(m)}


def _number(value) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) else None


def plot_curve(curve: dict, title: str, path: str,
               size: tuple = (6.4, 3.6), dpi: int = 100) -> None:
    """Plot one threshold curve into the PNG ``path`` (atomically): every
    series of :data:`SERIES` the curve has, and the best and fixed
    thresholds as vertical lines."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    thresholds = [float(t) for t in curve['thresholds']]
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for key, label in SERIES:
        values = curve.get(key)
        if isinstance(values, list) and len(values) == len(thresholds):
            ax.plot(thresholds, values, label=label,
                    linewidth=2 if key == 'mIoU' else 1,
                    linestyle='-' if key.startswith('mIoU') else '--')
    best = _number(curve.get('best_threshold'))
    if best is not None:
        ax.axvline(best, color='black', linestyle=':', linewidth=1,
                   label=f'best threshold {best:.2f}')
    fixed = _number(curve.get('fixed_threshold'))
    if fixed is not None:
        ax.axvline(fixed, color='grey', linestyle='-.', linewidth=1,
                   label=f'fixed threshold {fixed:.2f}')
    ax.set_xlabel('background threshold')
    ax.set_ylabel('%')
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize='small', loc='best')
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png')
    atomic_write_bytes(path, buf.getvalue())


def curve_summary(curve: dict) -> List[str]:
    """Short facts about a curve for the report's caption."""
    facts = []
    miou = [float(v) for v in curve['mIoU']]
    best = max(range(len(miou)), key=miou.__getitem__)
    facts.append(f'peak mIoU {miou[best]:.2f} at threshold '
                 f"{float(curve['thresholds'][best]):.2f}")
    if curve.get('num_images') is not None:
        facts.append(f"{curve['num_images']} images")
    return facts
