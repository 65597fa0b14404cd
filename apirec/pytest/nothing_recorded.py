"""A test that recorded nothing says so (:class:`apirec.NothingRecordedWarning`, counted in
the summary): its recordings in ``record`` or ``record-if-missing`` mode got no call, or every
call raised a transient error or an error its SDK's client raised before any request, neither
of which is stored. A test whose setup failed is not judged: its call never ran."""

from __future__ import annotations

import warnings

from apirec.errors import NothingRecordedWarning
from apirec.pytest.session import SessionState
from apirec.record.modes import Mode
from apirec.record.recording import Recording


def judge(node_id: str, rec: Recording, state: SessionState) -> None:
    """After a test whose call passed, with ``rec`` its plugin recording: warn if it (or any
    recording it opened) recorded nothing."""
    if rec.mode in (Mode.RECORD, Mode.RECORD_IF_MISSING) and node_id not in state.intercepted:
        state.nothing_recorded += 1
        warnings.warn(
            NothingRecordedWarning(
                f"apirec: {node_id} intercepted no call in {rec.mode} mode, so nothing "
                f"was recorded in {rec.settings.path}: decorate the function with "
                f"@apirec.record or patch it (apirec.patch(...)), or drop the apirec "
                f"fixture or marker from this test",
                path=str(rec.settings.path),
            ),
            stacklevel=1,
        )
    elif rec.mode in (Mode.RECORD, Mode.RECORD_IF_MISSING):
        _warn_if_only_transient_errors(node_id, rec, state)


def _warn_if_only_client_errors(node_id: str, rec: Recording, state: SessionState) -> bool:
    """Calls came, but each raised before reaching the service (its SDK's client refused: a
    missing API key): nothing was stored, and that, not a missing decorator, is why."""
    stats = rec.stats
    if not stats.client_errors or stats.recorded or stats.replayed:
        return False
    state.nothing_recorded += 1
    warnings.warn(
        NothingRecordedWarning(
            f"apirec: {node_id} stored nothing: its call raised before reaching the service "
            f"(its SDK's client raised it, e.g. for a missing API key), which is never "
            f"stored; set the key and record again",
            path=str(rec.settings.path),
        ),
        stacklevel=1,
    )
    return True


def _warn_if_only_transient_errors(node_id: str, rec: Recording, state: SessionState) -> None:
    """Calls came, but each raised an error that was not stored (transient): the test passed
    and stored nothing, and its replay will miss. Say so now, not at the next replay."""
    stats = rec.stats
    if _warn_if_only_client_errors(node_id, rec, state):
        return
    if not stats.errors_not_stored or stats.recorded or stats.replayed:
        return
    n = stats.errors_not_stored
    state.nothing_recorded += 1
    warnings.warn(
        NothingRecordedWarning(
            f"apirec: {node_id} stored nothing: its {n} call{'' if n == 1 else 's'} that "
            f"failed raised {'a transient error' if n == 1 else 'transient errors'}, which "
            f"{'is' if n == 1 else 'are'} not stored (a retry's answer is), so its replay "
            f"will miss; if the test is about that error, store it with "
            f'@pytest.mark.apirec(store_errors="all") or @apirec.record(store_errors="all")',
            path=str(rec.settings.path),
        ),
        stacklevel=1,
    )
