"""Load an HTML report in headless Chromium and check that it rendered:
every image loaded (the report's inline script marks
``<div id="report-status" data-ok="1">`` after the page's load event).

    python tools/check_report.py REPORT.html [--screenshot out.png]
                                 [--window-size 1600,4000]

Chromium is ``$CHROMIUM`` or the first of chromium / chromium-browser /
google-chrome on the PATH (Debian: ``apt-get install chromium``). Exits 0
when the page loaded with all its images, 1 with one ``error:`` line
naming the broken images otherwise.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional

import mmwsss  # noqa: F401  isort:skip
from mmwsss.apis.tool_utils import report_error
from mmwsss.utils.errors import USER_ERRORS, DataError
from mmwsss.visualization.report import STATUS_ID

BROWSERS = ('chromium', 'chromium-browser', 'google-chrome')
#: Flags of a throw-away headless browser that stays off the network.
FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
         '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage', '--hide-scrollbars',
         '--virtual-time-budget=5000')


def find_chromium() -> Optional[str]:
    """``$CHROMIUM``, else the first of :data:`BROWSERS` on the PATH."""
    if os.environ.get('CHROMIUM'):
        return os.environ['CHROMIUM']
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


class StatusParser(HTMLParser):
    """Collects the attributes of ``#report-status`` and the ``src`` of
    every ``<img>`` of a DOM dump."""

    def __init__(self) -> None:
        super().__init__()
        self.status: Optional[Dict[str, str]] = None
        self.images: List[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or '' for k, v in attrs}
        if attrs.get('id') == STATUS_ID:
            self.status = attrs
        if tag == 'img':
            self.images.append(attrs.get('src', ''))


def run_chromium(browser: str, url: str, extra: List[str],
                 timeout: float) -> subprocess.CompletedProcess:
    """Run ``browser`` headless on ``url`` with a fresh profile."""
    with tempfile.TemporaryDirectory(prefix='mmwsss-chromium-') as profile:
        cmd = [browser, *FLAGS, f'--user-data-dir={profile}', *extra, url]
        return subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout)


def check_dom(dom: str) -> str:
    """The summary of a loaded report's DOM dump.

    Raises:
        DataError: the status element is missing, unmarked (scripts did
            not run) or reports broken images (named).
    """
    parser = StatusParser()
    parser.feed(dom)
    if parser.status is None:
        raise DataError(f'no element #{STATUS_ID} in the rendered page: not '
                        'a report of tools/make_report.py, or it did not '
                        'load')
    status = parser.status
    if 'data-images' not in status:
        raise DataError(f'#{STATUS_ID} was never updated: the page\'s load '
                        'event did not fire or scripts did not run')
    if status.get('data-ok') != '1':
        try:
            broken = json.loads(status.get('data-broken') or '[]')
        except ValueError:
            broken = [status.get('data-broken')]
        raise DataError(f'{len(broken)} of {status["data-images"]} images '
                        f'did not load: {", ".join(map(str, broken))}')
    count = int(status['data-images'])
    if count != len(parser.images):
        raise DataError(f'the page reports {count} images but its DOM has '
                        f'{len(parser.images)}')
    return f'{count} images loaded'


def check_report(path: str, screenshot: Optional[str] = None,
                 window_size: str = '1600,4000',
                 browser: Optional[str] = None,
                 timeout: float = 120) -> str:
    """Render ``path`` in headless Chromium and check it (see
    :func:`check_dom`); optionally save a screenshot PNG.

    Raises:
        FileNotFoundError: no report file or no browser.
        DataError: the page did not load cleanly.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'report "{path}" does not exist')
    browser = browser or find_chromium()
    if browser is None or not shutil.which(browser):
        raise FileNotFoundError(
            f'no Chromium found (tried $CHROMIUM, {", ".join(BROWSERS)}); '
            'install it, e.g. apt-get install chromium, or set CHROMIUM')
    url = Path(osp.abspath(path)).as_uri()
    proc = run_chromium(browser, url, ['--dump-dom'], timeout)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise DataError(f'{browser} failed on {url} (exit '
                        f'{proc.returncode}): {proc.stderr.strip()[-500:]}')
    summary = check_dom(proc.stdout)
    if screenshot:
        target = osp.abspath(screenshot)
        os.makedirs(osp.dirname(target), exist_ok=True)
        shot = run_chromium(browser, url, [
            f'--screenshot={target}', f'--window-size={window_size}'
        ], timeout)
        if shot.returncode != 0 or not osp.isfile(target):
            raise DataError(f'{browser} wrote no screenshot {target}: '
                            f'{shot.stderr.strip()[-500:]}')
        summary += f'; screenshot {target}'
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description='check an HTML report in '
                                     'headless Chromium')
    parser.add_argument('report', help='the report\'s HTML file')
    parser.add_argument('--screenshot', help='also save a PNG screenshot')
    parser.add_argument('--window-size', default='1600,4000',
                        help='screenshot size WIDTH,HEIGHT (pixels)')
    parser.add_argument('--timeout', type=float, default=120,
                        help='seconds per browser run')
    args = parser.parse_args()
    try:
        summary = check_report(args.report, args.screenshot,
                               args.window_size, timeout=args.timeout)
    except (*USER_ERRORS, subprocess.TimeoutExpired) as err:
        return report_error(err)
    print(f'{args.report}: ok, {summary}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
