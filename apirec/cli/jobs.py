"""Work on many objects at once (``push``, ``pull``, ``gc``): a pool of threads, the
progress line stepped as each one finishes, every failure kept with the item it hit.

Threads, not processes: the work is waiting on the network or the disk, and the object
store's client releases the interpreter lock while it waits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from apirec.cli.progress import Progress
from apirec.errors import StoreError

Item = TypeVar("Item")
Result = TypeVar("Result")


def run_all(
    items: Iterable[Item],
    work: Callable[[Item], Result],
    jobs: int,
    progress: Progress,
) -> tuple[list[tuple[Item, Result]], list[tuple[Item, StoreError]]]:
    """``work(item)`` for every item, ``jobs`` at a time: the results and the failures
    (:class:`StoreError`), each with its item, in the order the items came. Any other
    exception is a bug and stops the run (what is running finishes first)."""
    done: dict[int, tuple[Item, Result]] = {}
    failed: dict[int, tuple[Item, StoreError]] = {}
    queue = list(enumerate(items))
    queue.reverse()
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="apirec") as pool:
        running: dict[Future[Result], tuple[int, Item]] = {}
        try:
            while queue or running:
                # a bounded window, not every item at once: memory stays flat for 100,000
                while queue and len(running) < 2 * jobs:
                    n, item = queue.pop()
                    running[pool.submit(work, item)] = (n, item)
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    n, item = running.pop(future)
                    try:
                        done[n] = (item, future.result())
                    except StoreError as e:
                        failed[n] = (item, e)
                    progress.step()
        finally:
            for future in running:
                future.cancel()
    return [done[n] for n in sorted(done)], [failed[n] for n in sorted(failed)]
