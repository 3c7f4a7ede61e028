"""A kernel forkserver: the heavy imports done once, each kernel forked into its own fresh sandbox.

Every sandboxed kernel used to start a new interpreter and import ipykernel, pandas, SciPy and
the library again: about 1.5 s of CPU of the ~2.1 s a submission's kernel costs. This process
(one per grading worker, started with the sandbox's environment, never running trainee code)
imports them once and then, per request, forks a kernel that *joins* a sandbox bubblewrap has
already built for that one submission. bubblewrap still does all of the jail (namespaces, mounts,
tmpfs, ``--remount-ro``, its pid 1, the wall clock); the sandboxed program it runs is only a
placeholder (``sleep``), whose namespaces the forked kernel enters:

- the fork joins the submission's pids cgroup first (so every later process counts), then
  ``setns`` the placeholder's pid namespace (for its own child, the kernel) and exits when the
  kernel does, killing the placeholder so bubblewrap ends and the grader sees the kernel gone;
- the kernel enters the ipc, uts, net and mount namespaces, ``chroot`` s to the sandbox's root,
  starts a new session, sets the same rlimits as ``prlimit`` (address space, file size, no core,
  1024 files), drops every capability (bounding set, ambient, effective/permitted/inheritable),
  sets no_new_privs, replaces its environment, reseeds ``random`` and NumPy's global generator
  (a fork would otherwise hand every trainee the same sequence), and runs ipykernel.

One fork serves one submission and is never reused; the zygote itself stays outside every
sandbox and only reads requests from its worker on stdin. Only for root (bubblewrap then makes
no user namespace); :func:`loyalty_lib.grading.sandbox.kernel_manager_class` falls back to a
plain sandboxed kernel whenever the zygote is unavailable.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys

PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "pandas", "scipy.stats", "loyalty_lib")

_FORK_SAFE_THREADS = {"jemalloc_bg_thd"}
_CLONE = {"ipc": 0x08000000, "uts": 0x04000000, "net": 0x40000000, "mnt": 0x00020000}
_CLONE_NEWPID = 0x20000000
_PR_SET_PDEATHSIG, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 1, 24, 38
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _setns(path: str, nstype: int) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(_libc.setns(fd, nstype), f"setns {path}")
    finally:
        os.close(fd)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]  # fmt: skip


def _drop_capabilities() -> None:
    for cap in range(64):
        if _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:
            _check(-1, f"drop capability {cap}")  # EINVAL only past the last capability
    _check(_libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient")
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    with open("/proc/self/status", encoding="ascii") as fh:
        status = dict(line.split(":", 1) for line in fh if ":" in line)
    if any(int(status[k].strip(), 16) for k in ("CapEff", "CapPrm", "CapInh", "CapBnd")):
        raise OSError("capabilities left after dropping them")


def _kernel(request: dict) -> None:
    """In the forked kernel: enter the sandbox, lock down, run ipykernel. Never returns."""
    import resource

    stub = int(request["stub"])
    root = os.open(f"/proc/{stub}/root", os.O_RDONLY | os.O_DIRECTORY)
    for name in ("ipc", "uts", "net"):
        _setns(f"/proc/{stub}/ns/{name}", _CLONE[name])
    _setns(f"/proc/{stub}/ns/mnt", _CLONE["mnt"])
    os.fchdir(root)
    os.chroot(".")
    os.close(root)
    os.chdir(request["cwd"])
    os.setsid()
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    limits = request["rlimits"]
    resource.setrlimit(resource.RLIMIT_AS, (limits["as"], limits["as"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["fsize"], limits["fsize"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    if limits.get("nproc"):
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["nproc"], limits["nproc"]))
    _drop_capabilities()
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, 65536)
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(0o022)
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    from ipykernel import kernelapp

    sys.argv = [kernelapp.__file__, *request["argv"]]
    kernelapp.launch_new_instance(argv=request["argv"])


def _serve(request: dict) -> int:
    """Fork the kernel's keeper; returns its pid (to the zygote)."""
    keeper = os.fork()
    if keeper:
        return keeper
    status = 1
    try:  # the keeper: in the cgroup, outside every other namespace, waits for the kernel
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1):
            os.dup2(null, fd)
        os.close(null)
        if request.get("cgroup"):
            with open(os.path.join(request["cgroup"], "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))
        _setns(f"/proc/{int(request['stub'])}/ns/pid", _CLONE_NEWPID)
        kernel = os.fork()
        if kernel == 0:
            try:
                _kernel(request)
            finally:
                os._exit(0)
        _, wait_status = os.waitpid(kernel, 0)
        status = os.waitstatus_to_exitcode(wait_status)
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        status = 1
    finally:
        # the placeholder's end ends the sandbox: bubblewrap exits, the grader sees it
        with contextlib.suppress(OSError):
            os.kill(int(request["stub"]), signal.SIGKILL)
        os._exit(status & 0xFF)


def main() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the system
    for name in PRELOAD:
        __import__(name)
    # A fork copies only the calling thread: any other thread's locks would stay locked in the
    # kernel. The one allowed is jemalloc's background thread (pyarrow's allocator, via pandas),
    # which jemalloc's own fork handlers make safe.
    tasks = os.listdir("/proc/self/task")
    others = []
    for task in tasks:
        with contextlib.suppress(OSError), open(f"/proc/self/task/{task}/comm") as fh:
            if int(task) != os.getpid():
                others.append(fh.read().strip())
    ready = os.getuid() == 0 and all(name in _FORK_SAFE_THREADS for name in others)
    out = sys.stdout
    out.write(json.dumps({"ready": ready, "threads": len(tasks)}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            reply = {"keeper": _serve(request)} if ready else {"error": "not ready"}
        except OSError as exc:
            reply = {"error": str(exc)}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
