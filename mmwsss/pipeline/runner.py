"""Run a list of stages in order, skipping finished ones.

A :class:`Stage` is a named list of commands (argv lists run from the
repository root). :class:`StageRunner` runs each stage whose completion
marker ``{work_dir}/.stages/{name}.json`` is missing, writes the marker
(atomically) only after all its commands succeeded, and stops at the first
failure with a message naming the stage and the command. The tools the
stages call are themselves resumable, so re-running a pipeline after an
interruption skips finished stages and continues inside the failed one.

Commands are built lazily (``Stage.build``) because later stages need the
outputs of earlier ones, e.g. the checkpoint a training stage wrote.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from mmwsss.utils.io import atomic_write_bytes
from .results import load_metrics


@dataclass
class Command:
    """One command of a stage.

    Args:
        argv: the command line, or
        build: a function returning it, called when the command runs (for
            arguments produced by an earlier command of the same stage,
            e.g. the checkpoint to test).
        metrics: if set, the command's last non-empty output line is JSON
            (the tools print a summary there) and is saved under this name
            in ``{work_dir}/metrics/{metrics}.json``.
    """
    argv: Optional[List[str]] = None
    metrics: Optional[str] = None
    build: Optional[Callable[[], List[str]]] = None

    def resolve(self) -> List[str]:
        """The command line."""
        argv = self.build() if self.build is not None else self.argv
        if not argv:
            raise ValueError('a Command needs argv or build')
        return argv


@dataclass
class Stage:
    """A pipeline stage.

    Args:
        name: short id (``--from``/``--only`` use it; the marker file name).
        title: what the stage does, for the log.
        build: returns the stage's commands; called only when it runs.
        outputs: folders the stage writes. They are kept when an
            interrupted stage resumes (its tools skip finished files), and
            deleted before a finished stage is run again (``--from`` /
            ``--only``), so new settings never mix with stale files.
    """
    name: str
    title: str
    build: Callable[[], List[Command]]
    outputs: Sequence[str] = field(default_factory=list)


class PipelineError(RuntimeError):
    """A stage failed or cannot run; the message says which and why."""


class StageRunner:
    """Runs stages in order from ``root`` with outputs under ``work_dir``.

    Args:
        root: repository root (commands run there).
        work_dir: the pipeline's work folder (markers, metrics).
        dry_run: print the commands of the stages that would run, run
            nothing (later stages may need outputs that do not exist yet:
            their commands are shown as far as they can be built).
        echo: print function (tests capture it).
    """

    def __init__(self, root: str, work_dir: str, dry_run: bool = False,
                 echo: Callable[[str], None] = print) -> None:
        self.root = root
        self.work_dir = work_dir
        self.dry_run = dry_run
        self.echo = echo
        self.log: List[tuple] = []

    # ----------------------------------------------------------- markers
    def marker(self, stage: Stage) -> str:
        return osp.join(self.work_dir, '.stages', f'{stage.name}.json')

    def is_done(self, stage: Stage) -> bool:
        return osp.isfile(self.marker(stage))

    def metrics_path(self, name: str) -> str:
        return osp.join(self.work_dir, 'metrics', f'{name}.json')

    def load_metrics(self) -> Dict[str, dict]:
        """All saved metrics, by name."""
        return load_metrics(self.work_dir)

    # --------------------------------------------------------------- run
    def run(self, stages: Sequence[Stage], start: Optional[str] = None,
            only: Optional[Sequence[str]] = None) -> None:
        """Run ``stages`` in order (from ``start``, or only those named)."""
        names = [s.name for s in stages]
        for name in ([start] if start else []) + list(only or []):
            if name not in names:
                raise PipelineError(f'unknown stage "{name}"; stages: '
                                    f'{", ".join(names)}')
        begin = names.index(start) if start else 0
        for stage in stages[begin:]:
            if only and stage.name not in only:
                continue
            # --from / --only rerun their stages even when done
            if self.is_done(stage) and not (start or only):
                self.echo(f'[skip] {stage.name}: {stage.title} (done; '
                          f'delete {self.marker(stage)} to redo)')
                continue
            if self.is_done(stage):
                self.clear(stage)
            self.run_stage(stage)

    def clear(self, stage: Stage) -> None:
        """Forget a finished stage: delete its marker and outputs."""
        for folder in stage.outputs:
            if osp.isdir(folder):
                self.echo(f'[redo] {stage.name}: deleting {folder}')
                if not self.dry_run:
                    shutil.rmtree(folder)
        if not self.dry_run:
            os.remove(self.marker(stage))

    def run_stage(self, stage: Stage) -> None:
        self.echo(f'\n==== stage {stage.name}: {stage.title}')
        start = time.time()
        try:
            commands = stage.build()
        except FileNotFoundError as err:
            if self.dry_run:
                self.echo(f'(dry run: commands need earlier outputs: {err})')
                return
            raise PipelineError(f'stage "{stage.name}": {err}') from err
        for command in commands:
            self.run_command(stage, command)
        if self.dry_run:
            return
        seconds = time.time() - start
        self.log.append((stage.name, seconds))
        atomic_write_bytes(
            self.marker(stage),
            json.dumps(dict(stage=stage.name, seconds=round(seconds, 1),
                            finished=time.strftime('%Y-%m-%d %H:%M:%S'))
                       ).encode())

    def run_command(self, stage: Stage, command: Command) -> None:
        try:
            argv = command.resolve()
        except FileNotFoundError as err:
            if self.dry_run:
                self.echo(f'(dry run: next command needs earlier outputs: '
                          f'{err})')
                return
            raise PipelineError(f'stage "{stage.name}": {err}') from err
        shown = ' '.join(argv).replace(sys.executable, 'python')
        self.echo(f'$ {shown}')
        if self.dry_run:
            return
        last = ''
        with subprocess.Popen(argv, cwd=self.root,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) as proc:
            for line in proc.stdout:
                self.echo(line.rstrip('\n'))
                if line.strip():
                    last = line.strip()
        if proc.returncode != 0:
            raise PipelineError(
                f'stage "{stage.name}" failed: `{shown}` exited with '
                f'{proc.returncode} (see its output above). Fix the cause '
                'and run the pipeline again: finished stages are skipped '
                'and the tools resume where they stopped.')
        if command.metrics:
            try:
                metrics = json.loads(last)
            except json.JSONDecodeError as err:
                raise PipelineError(
                    f'stage "{stage.name}": `{shown}` did not end with a '
                    f'JSON summary line (got {last[:200]!r})') from err
            atomic_write_bytes(
                self.metrics_path(command.metrics),
                json.dumps(metrics, indent=1).encode())
