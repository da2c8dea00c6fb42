"""Run many independent tasks on Ray: a local Ray by default, an existing cluster by address.

``RaySession`` starts (or joins) Ray and stops what it started; ``run_tasks`` submits one Ray task
per item with declared resources, retries tasks whose worker died or raised (``max_retries``),
and yields each item's outcome as it finishes. Every worker runs its libraries (torch, numba,
OpenMP/BLAS, Embree's casts and scene builds) on ``threads`` threads, so ``N`` workers do
not oversubscribe ``N`` cores. Ray is the ``datasets`` extra, imported only here.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldsim.errors import DatasetError, MissingExtraError

CONNECT_TIMEOUT_S = 10.0
"""How long joining a cluster waits for its address to answer (well within the 30 s promise)."""
WORKER_NICENESS = "0"
"""Niceness a local Ray adds to its workers (``RAY_worker_niceness``; Ray's own default is 15, which
starves the workers that do all the rendering on a machine with other work, measured: two workers
got less done than one). The environment variable, when set, wins."""
LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024
"""Object store of a local Ray: tasks pass clip descriptions and small results only."""
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")
"""Environment variables that bound the thread pools of the libraries a render uses."""


@dataclass(frozen=True)
class TaskResources:
    """What one task declares to Ray's scheduler."""

    num_cpus: float = 1.0
    memory_bytes: int = 0
    """0: not declared."""
    num_gpus: float = 0.0


@dataclass(frozen=True)
class TaskOutcome:
    """One item's end: its result, or the error of its last attempt."""

    item: Any
    result: Any = None
    error: str | None = None


def import_ray() -> Any:
    """The ``ray`` module, or MissingExtraError naming the ``datasets`` extra."""
    try:
        import ray
    except ImportError as error:
        raise MissingExtraError("ray", "datasets", error) from None
    return ray


def worker_environment(threads: int) -> dict[str, str]:
    """Environment of a worker process: thread bounds, and the driver's import path (this
    checkout's code first), so a generator defined in the driver's own modules imports there too."""
    root = str(Path(__file__).resolve().parents[2])
    inherited = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    paths = [root, *inherited, *(entry for entry in sys.path if entry and Path(entry).is_dir())]
    environment = {name: str(threads) for name in THREAD_VARIABLES}
    environment["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(path for path in paths if path))
    return environment


def limit_threads(threads: int) -> None:
    """Bound the thread pools already loaded in this process (the environment variables bound
    those loaded later): torch intra-op threads and numba's pool."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
"""The HTTP/2 client preface and an empty SETTINGS frame: a gRPC server (Ray's GCS and its client
server) answers with a SETTINGS frame of its own; anything else is not a Ray cluster."""


def check_address(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise DatasetError unless ``host:port`` (or ``ray://host:port``) accepts a connection and
    answers as a gRPC server within ``timeout`` seconds each; ``auto`` and ``local`` are left to Ray.

    Ray itself waits for a cluster far longer than a user should (minutes, for a port that
    accepts connections but is no Ray), so this answers first.
    """
    if address in ("auto", "local"):
        return
    target = address.removeprefix("ray://")
    host, separator, port_text = target.rpartition(":")
    if not separator or not host or not port_text.isdigit():
        raise DatasetError(f"{address!r} is not HOST:PORT (or ray://HOST:PORT, or auto)", key_path="address")
    hint = "start it with 'ray start --head' or leave out --address to run on this machine"
    try:
        with socket.create_connection((host.strip("[]"), int(port_text)), timeout=timeout) as connection:
            if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
                return  # a TLS cluster: the cleartext preface below would not be answered
            connection.settimeout(timeout)
            connection.sendall(HTTP2_PREFACE)
            reply = connection.recv(9)
    except OSError as error:
        reason = "no answer" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        raise DatasetError(
            f"cannot reach the Ray cluster at {address} ({reason} within {timeout:g} s); {hint}",
            key_path="address",
        ) from None
    if len(reply) < 4 or reply[3] != 4:  # not an HTTP/2 SETTINGS frame
        raise DatasetError(
            f"{address} answers, but not as a Ray cluster (no gRPC reply); give the head node's "
            "GCS address (HOST:6379 by default, as 'ray start --head' prints it)",
            key_path="address",
        )


class RaySession:
    """``with RaySession(workers=N):`` a local Ray with N CPUs, or ``address=`` an existing
    cluster; a Ray this process already started is used as it is (and left running)."""

    def __init__(self, workers: int, address: str | None = None) -> None:
        self.workers, self.address = workers, address
        self.started = False

    def __enter__(self) -> RaySession:
        if self.address:
            check_address(self.address)
        ray = import_ray()
        if ray.is_initialized():
            return self
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
        try:
            if self.address:
                ray.init(address=self.address, **options)
            else:
                os.environ.setdefault("RAY_worker_niceness", WORKER_NICENESS)
                ray.init(
                    num_cpus=self.workers,
                    include_dashboard=False,
                    object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                    **options,
                )
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DatasetError(f"cannot start {where}: {reason}", key_path="address") from None
        self.started = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            import_ray().shutdown()
            self.started = False


def _run_in_worker(function: Callable[[Any], Any], item: Any, threads: int) -> Any:
    limit_threads(threads)
    return function(item)


def run_tasks(
    function: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    resources: TaskResources = TaskResources(),
    max_retries: int = 2,
    threads: int = 1,
) -> Iterator[TaskOutcome]:
    """Run ``function(item)`` as one Ray task per item (inside a ``RaySession``), yielding each
    item's outcome in the order they finish.

    A task whose worker process dies (killed, out of memory) or whose function raises is run
    again up to ``max_retries`` times; after that its outcome carries the error. Interrupting
    the iteration cancels the tasks still pending.
    """
    ray = import_ray()
    options: dict[str, Any] = {
        "num_cpus": resources.num_cpus,
        "num_gpus": resources.num_gpus,
        "max_retries": max_retries,
        "retry_exceptions": True,
        "runtime_env": {"env_vars": worker_environment(threads)},
    }
    if resources.memory_bytes:
        options["memory"] = resources.memory_bytes
    remote = ray.remote(_run_in_worker).options(**options)
    function_ref = ray.put(function)
    pending = {remote.remote(function_ref, item, threads): item for item in items}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                item = pending.pop(ref)
                try:
                    yield TaskOutcome(item, result=ray.get(ref))
                except (ray.exceptions.RayError, Exception) as error:
                    yield TaskOutcome(item, error=_error_text(error))
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)


def _error_text(error: BaseException) -> str:
    """One line for a task's failure: the original exception of a RayTaskError, else Ray's own."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        error = cause
    text = str(error).strip().splitlines()
    message = text[-1] if text else ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
