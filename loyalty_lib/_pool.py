"""The one process pool behind ``execute_many`` (lessons) and ``grading.grade`` (submissions).

Both run independent jobs that each drive a Jupyter kernel; both need the same three things,
kept here once: spawned workers, a worker start-up that skips a 2 s import, and results handed
back as each job finishes (so a progress bar moves and one failing job cannot stop the others).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

J = TypeVar("J")
R = TypeVar("R")


def skip_iri_grammar() -> None:
    """Worker start-up: jsonschema (via nbformat) imports ``rfc3987_syntax``, which compiles a
    grammar at import time (~2 s per process, jsonschema issue #1392); it serves only IRI format
    checks, which notebook validation never uses, so these single-purpose workers skip it."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def run_each(
    run: Callable[[J], R],
    jobs: Sequence[J],
    *,
    workers: int,
    initializer: Callable[[], None] = skip_iri_grammar,
    on_crash: Callable[[J, BaseException], R] | None = None,
    preload: Sequence[str] = (),
) -> Iterator[tuple[int, R]]:
    """Yield ``(index, run(jobs[index]))`` as each job finishes, in ``workers`` processes.

    ``workers <= 1`` (or a single job) runs in this process, in order, without ``initializer``.
    Workers are *spawned*, not forked: the parent may hold zmq, tqdm or event-loop threads (pytest,
    Jupyter) that a fork copies half-way. Each worker imports once for all the jobs it takes, so a
    script calling this needs the usual ``if __name__ == "__main__":`` guard. ``run`` and the jobs
    must be picklable. A worker process that dies (killed, out of memory) fails only its job:
    ``on_crash(job, exc)`` gives its result; without ``on_crash`` the exception propagates.

    ``preload`` (module names): the workers are forked from multiprocessing's *forkserver*, a
    fresh single-threaded process that imports these modules once, instead of each worker
    importing them after a spawn (grading: nbgrader, nbconvert and jupyter_client, ~2 s of CPU per
    worker). The forkserver holds no threads of the parent, so the reason for spawning stands.
    """
    if not isinstance(workers, int):
        raise TypeError(f"workers must be an integer, got {workers!r}")
    if workers <= 1 or len(jobs) <= 1:
        for index, job in enumerate(jobs):
            yield index, run(job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if preload:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
    else:
        ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)), mp_context=ctx, initializer=initializer
    ) as pool:
        futures = {pool.submit(run, job): index for index, job in enumerate(jobs)}
        for future in as_completed(futures):
            index = futures[future]
            try:
                result: Any = future.result()
            except Exception as exc:
                if on_crash is None:
                    raise
                result = on_crash(jobs[index], exc)
            yield index, result
