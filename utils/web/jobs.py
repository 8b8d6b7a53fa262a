"""Background jobs: a script's `main(argv)` run in a thread, its output and log lines kept for the job's page.

One job at a time: a run, a send, a check and a client-list refresh all write under the home, and
the batch's own run lock (utils/monthly/run_lock.py) stops cron and the browser from overlapping.
Jobs live in memory; what they did lives in the files the scripts write, so a restart loses only
the log lines on the page (the run's log file in logs/ keeps them).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from utils.core import clock
from utils.core.cli import RedactingFilter, clean_text, redact
from utils.core.errors import EXIT_FAILURE

MAX_LINES = 5000  # a page of log lines, not a log file: the run's own log is in logs/
MAX_JOBS_KEPT = 50
SERVER_LOGGERS = ("waitress", "werkzeug", "utils.web")  # the server's own lines are not the job's


@dataclass
class Job:
    """One background job: what it is, its lines so far, and its exit code when it has finished."""

    id: int
    kind: str  # "run", "send", "check", "clients"
    title: str
    month: str | None = None
    client_ids: tuple[str, ...] = ()
    started: datetime = field(default_factory=clock.now)
    finished: datetime | None = None
    exit_code: int | None = None
    lines: list[str] = field(default_factory=list)
    thread_id: int | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self.exit_code is None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def add(self, text: str) -> None:
        with self._lock:
            for line in text.splitlines():
                line = clean_text(redact(line)).rstrip()
                if line and len(self.lines) < MAX_LINES:
                    self.lines.append(line)

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.lines)


class _JobStream(io.TextIOBase):
    """stdout/stderr while a job runs: everything goes on to the real stream; the job thread's writes are also the job's."""

    def __init__(self, job: Job, real: TextIO):
        self.job, self.real, self._partial = job, real, ""

    def write(self, text: str) -> int:
        with contextlib.suppress(ValueError, OSError):  # a stream closed since (a logging handler may keep this object)
            self.real.write(text)
        if threading.get_ident() == self.job.thread_id:
            self._partial += text
            if "\n" in self._partial:
                complete, _, self._partial = self._partial.rpartition("\n")
                self.job.add(complete)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(Exception):
            self.real.flush()
        if self._partial and threading.get_ident() == self.job.thread_id:
            self.job.add(self._partial)
            self._partial = ""


class _WorkerLogHandler(logging.Handler):
    """Log records of the job's worker threads (the batch fetches tickets in a pool) for the job's page.

    The job thread's own records reach the page through the scripts' stderr handler (`_JobStream`)."""

    def __init__(self, job: Job):
        super().__init__(logging.INFO)
        self.job = job
        self.addFilter(RedactingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.job.thread_id or record.name.startswith(SERVER_LOGGERS):
            return
        message = record.getMessage()
        self.job.add(message if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {message}")


class Busy(Exception):
    """A job is already running (its page is named in the message)."""

    def __init__(self, job: Job):
        super().__init__(f"{job.title} is in progress (started {job.started:%H:%M}); wait for it to finish")
        self.job = job


class Refused(Exception):
    """The job's own check said it cannot start now (cron holds the run lock, say)."""


class JobRunner:
    """Starts jobs one at a time in background threads and keeps the last few for their pages."""

    def __init__(self) -> None:
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def current(self) -> Job | None:
        with self._lock:
            return next((job for job in self._jobs.values() if job.running), None)

    def get(self, job_id: int) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: job.id, reverse=True)

    def start(self, job_kind: str, title: str, work: Callable[[], int], month: str | None = None,
              client_ids: tuple[str, ...] = (), precheck: Callable[[], str | None] | None = None) -> Job:
        """Run `work` (a script's `main(argv)` call) in a thread; Busy while another job runs.

        `precheck` runs first, under the runner's lock, so no job of ours can be starting meanwhile;
        its one-line answer, if any, is raised as Refused."""
        with self._lock:
            running = next((job for job in self._jobs.values() if job.running), None)
            if running is not None:
                raise Busy(running)
            problem = precheck() if precheck is not None else None
            if problem:
                raise Refused(problem)
            job = Job(next(self._ids), job_kind, title, month, client_ids)
            self._jobs[job.id] = job
            for old in sorted(self._jobs)[:-MAX_JOBS_KEPT]:
                del self._jobs[old]
        thread = threading.Thread(target=self._run, args=(job, work), name=f"web-job-{job.id}", daemon=True)
        thread.start()
        return job

    def _run(self, job: Job, work: Callable[[], int]) -> None:
        job.thread_id = threading.get_ident()
        handler = _WorkerLogHandler(job)
        root = logging.getLogger()
        root.addHandler(handler)
        code = EXIT_FAILURE
        try:
            with contextlib.redirect_stdout(_JobStream(job, _real_stream("stdout"))), \
                    contextlib.redirect_stderr(_JobStream(job, _real_stream("stderr"))):
                code = work()
        except BaseException as exc:  # noqa: BLE001 - the scripts map their own errors; this is the last net
            job.add(f"error: unexpected {type(exc).__name__}: {exc}")
        finally:
            root.removeHandler(handler)
            job.finished = clock.now()
            job.exit_code = code


def _real_stream(name: str) -> TextIO:
    """The process's stream (a job's stream is never wrapped in another job's)."""
    stream = getattr(sys, name)
    return stream.real if isinstance(stream, _JobStream) else stream
