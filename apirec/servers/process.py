"""The one recording of a process started under ``apirec run``: opened as Python starts,
before the program's own code, and closed as it exits.

It is process-wide (apirec.record.context's stack), so every thread, task and client of the
program finds it, and it has no test of its own: each call belongs to the test set around it
by :func:`apirec.test_context` (the servers' middleware sets it per request), or to none.
Answers are written as each call returns (the stores write at once, atomically), so a process
killed with SIGKILL loses only the calls still in flight. On a normal exit, Ctrl-C or SIGTERM,
the recording closes: streams still open are finished or cut and stored as such, within the
stream bound in wall time (a stream still being read then is not stored, and said).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from dataclasses import replace
from types import FrameType

from apirec.errors import NetworkBlocked
from apirec.guard.core import listen
from apirec.integrations.registry import patch
from apirec.record.modes import Mode
from apirec.record.recording import Recording
from apirec.record.settings import Settings
from apirec.servers.children import keep_bootstrap, run_variables
from apirec.servers.launcher import BOOTSTRAP_DIR
from apirec.servers.run_settings import RunSettings

RECORD_ADVICE = (
    "the test that sent the request, with the mode: pytest <node id> "
    "--apirec-mode=record-if-missing, when a fixture starts this server through `apirec run` "
    "and passes APIREC_MODE on; a call outside any test: restart the server under "
    "`apirec run --mode record-if-missing`"
)


def start_from_env(value: str) -> Recording:
    """Open the recording ``APIREC_RUN`` describes (the bootstrap's entry point); a Python
    child this process starts with an environment of its own keeps the bootstrap."""
    settings = RunSettings.from_env(value)
    rec = start(settings)
    keep_bootstrap(run_variables(value, settings.mode), BOOTSTRAP_DIR)
    return rec


def start(settings: RunSettings) -> Recording:
    """Open ``settings``' recording for the rest of the process, SDKs patched into it."""
    built = Settings.build(settings.dir, mode=settings.mode, store=settings.store)
    # a miss's advice: this process's own command line would record nothing (the recording
    # is opened by apirec run); the plugin replaces it with the test's command
    rec = Recording(settings=replace(built, extra={"record_command": RECORD_ADVICE}))
    # A supervisor (uvicorn --workers, --reload) or a helper process makes no call by design:
    # the summary line at exit tells what each process did instead.
    rec.warn_if_nothing_recorded = False
    rec.__enter__()
    if rec.mode is Mode.RECORD:
        # the run's start, not this process's: a worker started late must not replace what
        # another process of the run recorded before it (Answers.begin, one activation)
        rec._answers.started = settings.started
    try:
        patch(rec, *settings.integrations)
    except BaseException:
        rec.__exit__(None, None, None)
        raise
    listen(_BlockedHosts(settings).say)
    closer = _Closer(rec)
    atexit.register(closer.close)  # registered first, so it runs after the program's own
    closer.watch_sigterm()
    return rec


class _Closer:
    """Closes the recording once, at exit or on SIGTERM (when the program does not handle
    SIGTERM itself). On SIGTERM the handler closes it, within the stream bound in wall time,
    then the process dies by the signal as it would have without apirec: nothing is raised
    into the program, which might swallow it and never end."""

    def __init__(self, rec: Recording) -> None:
        self.rec = rec
        self.closing = False

    def watch_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        # SIG_IGN inherited from the parent, or a handler already there: theirs to keep
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, self._terminate)

    def _terminate(self, signum: int, frame: FrameType | None) -> None:
        signal.signal(signum, signal.SIG_DFL)  # a second SIGTERM ends it at once
        self.close()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        os.kill(os.getpid(), signum)

    def close(self) -> None:
        if self.closing:  # SIGTERM during the exit's close, or the exit after SIGTERM's
            return
        self.closing = True
        rec = self.rec
        if rec.is_open:
            # The program's thread was stopped anywhere (SIGTERM), and a stream's read may
            # block on a stalled upstream: close in a thread of its own, waited for within
            # the bound, so the process ends on time whatever happens there.
            seconds = rec._streams.bound.seconds + _MARGIN
            closer = threading.Thread(target=self._close, name="apirec-close", daemon=True)
            try:
                closer.start()
            except RuntimeError:  # no new thread this late in the interpreter's shutdown
                self._close()
            else:
                closer.join(seconds)
                if closer.is_alive():
                    _unfinished(rec, seconds)
        _summary(rec)

    def _close(self) -> None:
        rec = self.rec
        try:
            rec.__exit__(None, None, None)
        except Exception as e:  # the process is ending: say it, never hide it
            _say(f"closing {rec.settings.path} failed: {type(e).__name__}: {e}")


# beyond the stream bound, for the stores to write what was read
_MARGIN = 2.0


def _unfinished(rec: Recording, seconds: float) -> None:
    """The bound ran out while closing: what was not stored is named, and the process ends."""
    left = [tape.function for tape in rec._streams.open()]
    what = ", ".join(left) if left else "its answers"
    _say(
        f"closing {rec.settings.path} took longer than {seconds:g} s (a stream's upstream "
        f"stalled?): not stored: {what}"
    )


class _BlockedHosts:
    """One line on stderr for each host the guard blocks, the first time: the SDK's own
    error (a ConnectError) names no cause, and the server's log is where its user looks."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def say(self, error: NetworkBlocked) -> None:
        with self.lock:
            if error.host in self.seen:
                return
            self.seen.add(error.host)
        where = f"[{error.host}]" if ":" in error.host else error.host
        target = where if error.port is None else f"{where}:{error.port}"
        patched = ", ".join(self.settings.integrations) or "none"
        _say(
            f"blocked {target} (mode {self.settings.mode}): a call went to the network past "
            f"the patched SDKs (--integrations: {patched}), so it was neither recorded nor "
            f"replayed. If an SDK made it, patch it: apirec run --integrations <sdk> (or "
            f"APIREC_INTEGRATIONS); if the host must be reached, APIREC_ALLOW_HOSTS={error.host}"
        )


def _summary(rec: Recording) -> None:
    stats = rec.stats
    if not rec.intercepted and not rec.blocked:
        return
    blocked = f", {len(rec.blocked)} blocked" if rec.blocked else ""
    _say(
        f"{stats.replayed} replayed, {stats.recorded} recorded, {stats.live} live, "
        f"{stats.missed} missed{blocked} (mode {rec.mode}, {rec.settings.path})"
    )


def _say(message: str) -> None:
    try:
        sys.stderr.write(f"apirec run [pid {os.getpid()}]: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # stderr closed or gone
        pass
