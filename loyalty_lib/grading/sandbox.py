"""The sandbox every submission's kernel runs in (Debian's bubblewrap, ``apt-get install bubblewrap``).

What the kernel sees (one ``bwrap`` per kernel, built by :func:`kernel_command`):

- read-only: ``/usr`` (libc and friends), the virtual environment, ``sys.base_prefix`` (the
  interpreter the venv points at) and the ``loyalty_lib`` folder, each at its own path; nothing
  else of the project: not ``solutions/``, not the scratch course's ``source/``, not other
  trainees, not the gradebook, not the instructor's home;
- writable: its working folder ``/home/trainee/work`` (that trainee's notebook and data files
  for this assignment, bound from the scratch copy), ``/home/trainee`` and ``/tmp`` (both fresh,
  size-capped tmpfs), and the folder holding the kernel's connection file and its ``ipc`` sockets;
  the rest of ``/`` is remounted read-only;
- its own network namespace (``--unshare-net``: not even the host's loopback; the kernel talks
  to the grader over ``transport="ipc"`` Unix sockets in the bound folder), pid, IPC and UTS
  namespaces, ``--die-with-parent``, and a cleared environment;
- no capabilities (``--cap-drop ALL``): bubblewrap started by root keeps root's capabilities in
  the sandbox unless told otherwise (measured: ``CapEff 000001fffeffffff``, CAP_SYS_ADMIN and
  CAP_MKNOD included, enough to make a device node for the host's disk and mount it);
- matplotlib's font list, built once per grading run inside a sandbox like the kernels' (so it
  lists exactly the fonts a kernel sees) and bound read-only into each kernel's home: without it
  every kernel that imports matplotlib rescanned the fonts into its empty home (about 0.15 s of
  CPU per submission, and a failing ``fc-list``).

As root, the kernel is not a new interpreter: bubblewrap builds this sandbox around a placeholder
(``sleep``) and the worker's kernel forkserver (:mod:`loyalty_lib.grading._zygote`, imports done
once) forks a kernel that joins it, with the same caps applied by hand. One fork per submission;
``LOYALTY_GRADE_FORK=0`` or any failure to start the forkserver gives a fresh interpreter instead.

Caps, and why each uses what it uses:

- **memory**: ``RLIMIT_AS`` (``prlimit --as``), default 2 GB per process. A memory cgroup would
  count the whole tree, but it needs a writable, delegated cgroup, which CI runners and laptops
  lack; an address-space rlimit works for any user, and the process cap below bounds how many
  2 GB processes there can be. glibc is told to keep two malloc arenas (``MALLOC_ARENA_MAX=2``)
  so idle zmq threads do not reserve 64 MB of address space each.
- **processes**: a ``pids`` cgroup (``pids.max``, default 64) when one can be created, else
  ``RLIMIT_NPROC``. The rlimit counts all processes of the real user, not of the sandbox, and the
  kernel never applies it to uid 0 (``kernel/fork.c`` exempts ``INIT_USER``; measured here: 500
  forks went through under ``prlimit --nproc`` as root, with and without ``--cap-drop ALL`` or a
  user namespace), so as root only the cgroup works; as another user the rlimit is set to the
  user's current process count plus the cap.
- **disk writes**: ``/tmp`` and ``/home/trainee`` are tmpfs of ``disk`` bytes each (bwrap
  ``--size``), and ``RLIMIT_FSIZE`` caps any one file (the bound working folder included) at the
  same size: a write past it fails with ``EFBIG`` instead of filling the grader's disk.
- **time**: the per-cell timeout is nbgrader's (interrupt, then give up on a stuck kernel); the
  wall clock per kernel is ``timeout --signal=KILL``: a kernel past it dies and its remaining cells
  score 0.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import loyalty_lib

#: where the trainee's folder appears inside the sandbox (the kernel's working folder)
WORK_DIR = "/home/trainee/work"
HOME_DIR = "/home/trainee"


@dataclasses.dataclass(frozen=True)
class Limits:
    """Caps for one sandboxed kernel: bytes, a process count and seconds."""

    memory_bytes: int = 2_000_000_000
    processes: int = 64
    disk_bytes: int = 200_000_000
    wall_seconds: int = 900

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "processes", "disk_bytes", "wall_seconds"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"sandbox limit {name} must be a positive integer, got {value!r}")


_UNITS = {"": 1, "B": 1, "K": 1_000, "M": 1_000_000, "G": 1_000_000_000}


def parse_size(text: str) -> int:
    """Bytes from ``"2G"``, ``"512M"``, ``"64K"`` or a plain byte count (decimal units)."""
    raw = str(text).strip().upper().removesuffix("B") if str(text).strip().upper() != "B" else ""
    number, unit = (raw[:-1], raw[-1]) if raw and raw[-1] in "KMG" else (raw, "")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(
            f"not a size: {text!r} (write e.g. 2G, 512M or a number of bytes)"
        ) from None
    if value <= 0:
        raise ValueError(f"a size must be positive, got {text!r}")
    return int(value * _UNITS[unit])


@functools.cache
def sandbox_problem() -> str | None:
    """Why no sandbox can be made on this machine (a sentence naming the missing piece), or None."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux (bubblewrap); this is {sys.platform}"
    for tool, package in (
        ("bwrap", "bubblewrap"),
        ("prlimit", "util-linux"),
        ("timeout", "coreutils"),
    ):
        if shutil.which(tool) is None:
            return f"'{tool}' was not found on PATH (install it: apt-get install {package})"
    probe = [
        "bwrap", "--die-with-parent", "--unshare-net", "--unshare-pid",
        "--ro-bind", "/", "/", "true",
    ]  # fmt: skip
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start ({exc})"
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap cannot create namespaces here ({why}); user namespaces may be disabled"
    return None


def _pids_cgroup_parent() -> Path | None:
    """A folder under which a pids cgroup can be created by this user (v1 or v2), or None."""
    candidates = [Path("/sys/fs/cgroup/pids")]
    try:  # cgroup v2: our own cgroup, if it is delegated to us and has the pids controller
        own = Path("/proc/self/cgroup").read_text().strip().splitlines()
        v2 = [line.split("::", 1)[1] for line in own if line.startswith("0::")]
        if v2:
            candidates.append(Path("/sys/fs/cgroup") / v2[0].lstrip("/"))
    except OSError:
        pass
    for parent in candidates:
        if (parent / "pids.max").exists() or (parent / "cgroup.procs").exists():
            probe = parent / f"loyalty-probe-{os.getpid()}-{uuid.uuid4().hex[:6]}"
            try:
                probe.mkdir()
            except OSError:
                continue
            ok = (probe / "pids.max").exists()
            probe.rmdir()
            if ok:
                return parent
    return None


_CGROUP_PARENT: Path | None | bool = False  # False: not probed yet in this process


def make_pids_cgroup(processes: int) -> Path | None:
    """Create a cgroup with ``pids.max = processes``; None when no cgroup can be made here."""
    global _CGROUP_PARENT
    if _CGROUP_PARENT is False:
        _CGROUP_PARENT = _pids_cgroup_parent()
    if _CGROUP_PARENT is None:
        return None
    group = Path(_CGROUP_PARENT) / f"loyalty-grade-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        group.mkdir()
        (group / "pids.max").write_text(str(processes))
    except OSError:
        remove_cgroup(group)
        return None
    return group


def remove_cgroup(group: Path | None) -> None:
    """Kill what is left in ``group`` and remove it (a cgroup folder goes once it is empty)."""
    if group is None or not group.exists():
        return
    import signal
    import time

    for _ in range(50):
        try:
            pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        except OSError:
            pids = []
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.1)


def _user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                for task in (entry / "task").iterdir():
                    count += task.stat().st_uid == uid
            except OSError:
                continue
    return count


def _library_dir() -> Path:
    return Path(loyalty_lib.__file__).resolve().parent


def sandbox_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a sandboxed kernel (bubblewrap clears the grader's)."""
    venv = Path(sys.prefix).resolve()
    return {
        "PATH": f"{venv}/bin:/usr/bin:/bin",
        "HOME": HOME_DIR,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "MPLBACKEND": "agg",
        "MPLCONFIGDIR": f"{HOME_DIR}/.config/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        **{k: v for k, v in os.environ.items() if k.startswith("LOYALTY_")},
        **(env or {}),
    }


def kernel_command(
    argv: list[str],
    *,
    work_dir: Path,
    sock_dir: Path,
    limits: Limits,
    cgroup: Path | None = None,
    env: dict[str, str] | None = None,
    font_cache: Path | None = None,
) -> list[str]:
    """``argv`` (a kernel's command line) wrapped in the caps and the bubblewrap sandbox.

    ``work_dir`` is bound read-write as the kernel's working folder; ``sock_dir`` at its own path
    (it holds the connection file and the ipc sockets, whose paths are written into that file).
    ``font_cache`` (from :func:`build_font_cache`) is bound read-only into matplotlib's folder.
    """
    venv, base = Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()
    library = _library_dir()
    caps = [
        "prlimit",
        f"--as={limits.memory_bytes}",
        f"--fsize={limits.disk_bytes}",
        "--core=0",
        "--nofile=1024",
    ]
    if cgroup is None and os.getuid() != 0:
        caps.append(f"--nproc={_user_process_count() + limits.processes}")
    environment = sandbox_environment(env)
    jail = ["bwrap", "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc"]
    jail += ["--cap-drop", "ALL"]
    # --new-session: the kernel cannot push keystrokes into the grader's terminal (TIOCSTI), and
    # its own process group is what an interrupt request signals
    jail += ["--unshare-uts", "--hostname", "sandbox", "--new-session", "--clearenv"]
    for key, value in environment.items():
        jail += ["--setenv", key, value]
    jail += ["--ro-bind", "/usr", "/usr"]
    for link in ("lib", "lib64", "bin", "sbin"):
        if Path(f"/{link}").is_symlink():
            jail += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
        elif Path(f"/{link}").is_dir():
            jail += ["--ro-bind", f"/{link}", f"/{link}"]
    jail += ["--proc", "/proc", "--dev", "/dev"]
    jail += ["--size", str(limits.disk_bytes), "--tmpfs", "/tmp"]
    jail += ["--size", str(limits.disk_bytes), "--tmpfs", HOME_DIR]
    # After the tmpfs mounts: a project (or its venv) living under /tmp — a CI checkout, a clone
    # for a test — must be bound on top of the fresh /tmp, not hidden beneath it.
    seen: set[Path] = set()
    for path in (base, venv, library):
        if path not in seen and not any(path.is_relative_to(p) for p in seen):
            jail += ["--ro-bind", str(path), str(path)]
            seen.add(path)
    jail += ["--bind", str(work_dir), WORK_DIR, "--bind", str(sock_dir), str(sock_dir)]
    if font_cache is not None:
        jail += ["--ro-bind", str(font_cache), f"{environment['MPLCONFIGDIR']}/{font_cache.name}"]
    jail += ["--remount-ro", "/", "--chdir", WORK_DIR]
    clock = ["timeout", "--signal=KILL", str(limits.wall_seconds)]
    command = [*caps, "--", *clock, *jail, *argv]
    if cgroup is not None:
        # join the cgroup first, then exec: every process of the kernel is born inside it
        command = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgroup), *command]
    return command


def build_font_cache(folder: Path, limits: Limits) -> Path | None:
    """matplotlib's font list (``fontlist-v*.json``) as a kernel in the sandbox builds it, or None.

    Run once per grading run, before any kernel: a sandbox like theirs (same binds, same
    environment) imports ``matplotlib.font_manager`` with ``MPLCONFIGDIR`` in a folder of our
    own, bound read-write. None when matplotlib is missing or anything fails (kernels then build
    their own, as before).
    """
    cache, work = Path(folder) / "matplotlib", Path(folder) / "work"
    cache.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    command = kernel_command(
        [str(Path(sys.prefix) / "bin" / "python"), "-c", "import matplotlib.font_manager"],
        work_dir=work,
        sock_dir=cache,
        limits=limits,
        env={"MPLCONFIGDIR": str(cache)},
    )
    try:
        done = subprocess.run(command, capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = sorted(cache.glob("fontlist-v*.json"))
    return found[-1] if done.returncode == 0 and found else None


class _Zygote:
    """This worker's kernel forkserver (:mod:`loyalty_lib.grading._zygote`), started on first use."""

    process: subprocess.Popen | None = None
    ready = False

    @classmethod
    def get(cls) -> type[_Zygote] | None:
        if cls.process is None:
            import json

            cls.process = subprocess.Popen(
                [str(Path(sys.prefix) / "bin" / "python"), "-m", "loyalty_lib.grading._zygote"],
                env=sandbox_environment(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd="/",
                text=True,
            )
            line = cls.process.stdout.readline() if cls.process.stdout else ""
            cls.ready = bool(line) and json.loads(line).get("ready", False)
        return cls if cls.ready and cls.process.poll() is None else None

    @classmethod
    def fork(cls, request: dict) -> int:
        import json

        assert cls.process is not None and cls.process.stdin and cls.process.stdout
        cls.process.stdin.write(json.dumps(request) + "\n")
        cls.process.stdin.flush()
        reply = json.loads(cls.process.stdout.readline() or '{"error": "the zygote exited"}')
        if "keeper" not in reply:
            raise RuntimeError(f"the kernel forkserver failed: {reply.get('error')}")
        return int(reply["keeper"])


def _placeholder(launched: int, marker: list[str], wait: float = 30.0) -> int:
    """The pid of the placeholder bubblewrap runs (``marker`` is its argv), below ``launched``."""
    import time

    wanted = "\0".join(marker) + "\0"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        parents: dict[int, int] = {}
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline", encoding="utf-8", errors="replace") as fh:
                    if fh.read() == wanted:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
        for pid in found:
            up, hops = pid, 0
            while up in parents and up != launched and hops < 8:
                up, hops = parents[up], hops + 1
            if up == launched:
                return pid
        time.sleep(0.005)
    raise RuntimeError("the sandbox did not start its placeholder in time")


@functools.cache
def kernel_manager_class() -> type:
    """A jupyter_client kernel manager that launches its kernel through :func:`kernel_command`.

    Its settings come from the traitlets config (``SandboxedKernelManager.work_dir`` …), which
    nbgrader's Execute passes to the kernel manager it creates.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Bool, Int, Unicode

    class SandboxedKernelManager(AsyncKernelManager):
        work_dir = Unicode("").tag(config=True)
        sock_dir = Unicode("").tag(config=True)
        cgroup = Unicode("").tag(config=True)
        font_cache = Unicode("").tag(config=True)
        #: fork the kernel from this worker's forkserver into the sandbox (see _zygote)
        fork_kernels = Bool(False).tag(config=True)
        _fork_request: dict | None = None
        memory_bytes = Int(Limits.memory_bytes).tag(config=True)
        processes = Int(Limits.processes).tag(config=True)
        disk_bytes = Int(Limits.disk_bytes).tag(config=True)
        wall_seconds = Int(Limits.wall_seconds).tag(config=True)

        @property
        def kernel_spec(self):  # noqa: ANN202 - jupyter_client's own property
            # Interrupt by message, never by signal: jupyter_client signals the whole process
            # group it launched, which holds timeout and bwrap too; SIGINT killed the outer bwrap
            # (no handler) and with it the kernel (--die-with-parent), so every per-cell timeout
            # became a dead kernel. The kernel's control thread answers an interrupt_request by
            # signalling only itself (and its children: bwrap --new-session made it a group leader).
            spec = super().kernel_spec
            if spec is not None:
                spec.interrupt_mode = "message"
            return spec

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            argv = super().format_kernel_cmd(extra_arguments)
            if argv and Path(argv[0]).name.startswith("python"):
                argv[0] = str(Path(sys.prefix) / "bin" / "python")  # the venv's, bound read-only
            limits = Limits(self.memory_bytes, self.processes, self.disk_bytes, self.wall_seconds)
            self._fork_request = None
            if (
                self.fork_kernels
                and "ipykernel_launcher" in argv
                and argv[argv.index("ipykernel_launcher") - 1] == "-m"
                and os.getuid() == 0
                and _Zygote.get() is not None
            ):
                self._fork_request = {
                    "argv": argv[argv.index("ipykernel_launcher") + 1 :],
                    "cwd": WORK_DIR,
                    "cgroup": self.cgroup,
                    "env": sandbox_environment(),
                    "rlimits": {"as": limits.memory_bytes, "fsize": limits.disk_bytes},
                }
                # bubblewrap builds the sandbox around a placeholder; the forked kernel joins it
                argv = ["sleep", f"{limits.wall_seconds + 1}.{uuid.uuid4().int % 10**9:09d}"]
            return kernel_command(
                argv,
                work_dir=Path(self.work_dir),
                sock_dir=Path(self.sock_dir),
                limits=limits,
                cgroup=Path(self.cgroup) if self.cgroup else None,
                font_cache=Path(self.font_cache) if self.font_cache else None,
            )

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:  # noqa: ANN003
            await super()._async_launch_kernel(kernel_cmd, **kw)
            if self._fork_request is None:
                return
            marker = kernel_cmd[kernel_cmd.index("sleep") :] if "sleep" in kernel_cmd else []
            launched = self.provisioner.process.pid  # type: ignore[union-attr]
            request = {**self._fork_request, "stub": _placeholder(launched, marker)}
            _Zygote.fork(request)

    return SandboxedKernelManager
