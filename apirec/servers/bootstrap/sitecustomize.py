"""``apirec run``'s start-up hook, imported by Python's ``site`` in every process started
under it (the launcher puts this directory first on ``PYTHONPATH``, which children inherit).

It leaves ``sys.path`` as it would have been, runs the ``sitecustomize`` it shadows (a
distribution's or a virtualenv's), then, when ``APIREC_RUN`` is set, opens the process's
recording (:mod:`apirec.servers.process`) before the program's own code runs. It must never
break a Python it lands in: an interpreter without apirec is told so on stderr and runs on.
"""

import os
import sys


def _leave_sys_path() -> None:
    here = os.path.dirname(os.path.realpath(__file__))
    sys.path[:] = [p for p in sys.path if not p or os.path.realpath(p) != here]


def _chain() -> None:
    """Run the next ``sitecustomize`` on the path, as Python would have without this one."""
    import importlib.machinery
    import importlib.util
    import traceback

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    try:
        spec.loader.exec_module(module)
    except Exception:  # as site.py does: say it, and go on
        sys.stderr.write(f"Error in sitecustomize ({spec.origin}):\n")
        traceback.print_exc()


def _start() -> None:
    value = os.environ.get("APIREC_RUN")
    if not value:
        return
    try:
        from apirec.servers.process import start_from_env
    except ImportError as e:
        sys.stderr.write(
            f"apirec run [pid {os.getpid()}]: {sys.executable} cannot import apirec ({e}): "
            f"this process's calls are neither recorded nor replayed\n"
        )
        return
    try:
        start_from_env(value)
    except Exception as e:
        # Going on would let a replay reach the network: stop this process instead.
        sys.stderr.write(
            f"apirec run [pid {os.getpid()}]: cannot start the recording: {type(e).__name__}: {e}\n"
        )
        sys.stderr.flush()
        os._exit(2)


_leave_sys_path()
_chain()
_start()
