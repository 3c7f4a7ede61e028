"""Browser fixtures: Debian's Chromium driven by Playwright, and one JupyterLab server per session.

What a trainee and a client see is checked in a real browser: JupyterLab serving a scratch copy of
the course (``notebooks/``, ``exercises/``, ``data/``), and the consultant report opened from disk.
Playwright cannot download its own browser here (closed network), so the tests drive
``/usr/bin/chromium`` (``make browser`` installs it). Without it the tests skip with that reason,
except in CI or with ``LOYALTY_REQUIRE_BROWSER=1``, where a missing browser is a failure.

Waits are event-driven (a selector appears, a prompt number changes); timeouts are only ceilings.
Full-page screenshots go to ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# --no-sandbox: Chromium refuses to start as root without it. The rest keep a headless browser
# from calling home on a closed network (each failed connection retries in the background).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MISSING_BROWSER = (
    f"Chromium not found at {CHROMIUM}: install Debian's chromium (make browser) "
    "to run the browser tests"
)
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
#: The folders of the project JupyterLab serves (a copy: running lessons writes checkpoints).
SERVED = ("notebooks", "exercises", "data")
#: Lab front-end plugins turned off in the scratch config: the announcements plugin asks for
#: consent in a pop-up and fetches news from the internet.
DISABLED_LAB_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)
#: Ceilings (ms). Generous because the test machine has 2 cores shared with the rest of the suite.
APP_TIMEOUT = 90_000
RUN_TIMEOUT = 180_000
STDERR_MIME = "application/vnd.jupyter.stderr"


def _required() -> bool:
    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false", "no") or os.environ.get("LOYALTY_REQUIRE_BROWSER") == "1"


def _missing(reason: str) -> None:
    if _required():
        pytest.fail(
            f"{reason} (required here: CI or LOYALTY_REQUIRE_BROWSER=1 is set)", pytrace=False
        )
    pytest.skip(reason)


# --------------------------------------------------------------------------------------------
# the browser
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    """Debian's Chromium, or a skip (a failure in CI) that names what is missing."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _missing(MISSING_BROWSER)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_executable: Path) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(chromium_executable), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def page_screenshot(screenshot_dir: Path) -> Any:
    """``page_screenshot(page, name)``: a full-page PNG of an ordinary page (the report)."""

    def take(page: Any, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    return take


# --------------------------------------------------------------------------------------------
# the JupyterLab server
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A running ``jupyter lab`` on 127.0.0.1 serving ``root`` (a scratch copy of the course)."""

    def __init__(self, root: Path, port: int, token: str, process: subprocess.Popen, log: Path):
        self.root, self.port, self.token, self.process, self.log = root, port, token, process, log
        self.base = f"http://127.0.0.1:{port}"

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        request = urllib.request.Request(
            f"{self.base}{path}", method=method, headers={"Authorization": f"token {self.token}"},
            data=None if body is None else json.dumps(body).encode("utf-8"),
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def in_background(self, path: str, method: str, body: Any = None) -> None:
        """Send a request without waiting for it (kernel starts and shutdowns take seconds)."""

        def send() -> None:
            with contextlib.suppress(OSError, urllib.error.URLError):
                self.api(path, method, body)

        threading.Thread(target=send, daemon=True).start()

    def prestart(self, path: str) -> None:
        """Start the kernel of a notebook about to be opened (JupyterLab joins the running
        session when it opens the file), so its start overlaps other work."""
        body = {"path": path, "name": Path(path).name, "type": "notebook"}
        self.in_background("/api/sessions", "POST", {**body, "kernel": {"name": "python3"}})

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _write_lab_config(config_dir: Path, settings_dir: Path) -> None:
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": dict.fromkeys(DISABLED_LAB_PLUGINS, True)}
    (labconfig / "page_config.json").write_text(json.dumps(page_config), encoding="utf-8")
    # Every cell in the DOM (no virtual scrolling), so outputs far down a lesson can be checked
    # and the full-page screenshot shows the whole notebook.
    tracker = settings_dir / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}), encoding="utf-8"
    )


def _wait_ready(server: LabServer, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {server.process.returncode} before answering:\n"
                + server.log_tail()
            )
        with contextlib.suppress(OSError, urllib.error.URLError):
            server.api("/api/status")
            return
        time.sleep(0.2)
    raise RuntimeError(
        f"jupyter lab did not answer /api/status within {timeout:.0f} s:\n{server.log_tail()}"
    )


@pytest.fixture(scope="session")
def lab_server(
    chromium_executable: Path, samples_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """JupyterLab on a free port with a random token, serving a scratch copy of the course.

    Kernels run on this interpreter (its bin folder first on PATH), as ``make lab`` would run them.
    Config, settings, workspaces and runtime files live in the scratch folder, so the user's own
    JupyterLab setup neither leaks in nor gets changed.
    """
    scratch = tmp_path_factory.mktemp("jupyterlab")
    root = scratch / "course"
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")
    for folder in SERVED:
        shutil.copytree(PROJECT_ROOT / folder, root / folder, ignore=ignore)
    config_dir, settings_dir = scratch / "config", scratch / "settings"
    _write_lab_config(config_dir, settings_dir)
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # ipykernel picks the inline backend (PNG outputs) only when unset
    env.update(
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    port, token = _free_port(), secrets.token_hex(16)
    log = scratch / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        f"--IdentityProvider.token={token}",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",  # CI and this machine run as root
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    server = LabServer(root, port, token, process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


# --------------------------------------------------------------------------------------------
# driving JupyterLab like a person: menus, cells, the editor
# --------------------------------------------------------------------------------------------

_PROMPTS_JS = """panel => Array.from(panel.querySelectorAll('.jp-Cell'), cell => {
    const prompt = cell.classList.contains('jp-CodeCell') ? cell.querySelector('.jp-InputPrompt') : null;
    return prompt ? prompt.textContent.trim() : null;
})"""
# Finished when no code cell waits or runs ([*]) and the kernel has counted past `before`.
# JupyterLab marks every scheduled cell [*] the moment Run is chosen, and clears the marks of
# the cells left unrun when one fails, so this never mistakes a queue for a finished run.
_DONE_JS = """([panel, before]) => {
    const prompts = Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt'), e => e.textContent);
    if (prompts.some(p => p.includes('*'))) return false;
    const counts = prompts.map(p => parseInt((p.match(/\\d+/) || ['0'])[0], 10));
    return Math.max(0, ...counts) > before;
}"""
_STARTED_JS = """([panel, before]) => Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt'),
    e => e.textContent).some(p => p.includes('*') || parseInt((p.match(/\\d+/) || ['0'])[0], 10) > before)"""
_IMAGES_JS = """panel => Promise.all(Array.from(panel.querySelectorAll('.jp-Cell'), (cell, index) =>
    Promise.all(Array.from(cell.querySelectorAll('.jp-OutputArea-output img'), img =>
        img.decode().then(() => img.naturalWidth, () => 0)))
    .then(widths => ({index, widths}))))"""


class Notebook:
    """One open notebook tab: its cells in DOM order (windowing is off, so index = cell index)."""

    def __init__(self, lab: JupyterLab, path: str, panel: Any) -> None:
        self.lab, self.page, self.path, self.panel = lab, lab.page, path, panel
        self.cells = panel.locator(".jp-Cell")

    # running ------------------------------------------------------------------------------

    def max_count(self) -> int:
        counts = [int(m.group()) for p in self.prompts() if p and (m := re.search(r"\d+", p))]
        return max(counts, default=0)

    def prompts(self) -> list[str | None]:
        return self.panel.evaluate(_PROMPTS_JS)

    def wait_started(self, before: int, timeout: float = 10_000) -> None:
        """A cell is queued ([*]) or has already run: the menu command reached the kernel."""
        try:
            self.page.wait_for_function(_STARTED_JS, arg=[self.panel.element_handle(), before],
                                        timeout=timeout, polling="raf")  # fmt: skip
        except Exception as exc:  # Playwright's TimeoutError
            shot = self.lab.failure_screenshot(self.path)
            raise AssertionError(
                f"{self.path}: nothing started running after the Run command; prompts "
                f"{self.prompts()}; screenshot {shot}"
            ) from exc

    def wait_done(self, before: int, timeout: float = RUN_TIMEOUT) -> None:
        try:
            self.page.wait_for_function(_DONE_JS, arg=[self.panel.element_handle(), before],
                                        timeout=timeout, polling=100)  # fmt: skip
        except Exception as exc:  # Playwright's TimeoutError: say which cell is still running
            running = [i for i, p in enumerate(self.prompts()) if p and "*" in p]
            shot = self.lab.failure_screenshot(self.path)
            raise AssertionError(
                f"{self.path}: the run did not finish within {timeout / 1000:.0f} s; cells still "
                f"running: {running}; prompts: {self.prompts()}; screenshot {shot}; "
                f"server log:\n{self.lab.server.log_tail(15)}"
            ) from exc

    def run_all(self) -> None:
        """Edit → Clear Outputs of All Cells, then Run → Run All Cells, and wait for the end.

        Clearing first matters: a stored notebook already shows its saved outputs, so without it
        a run that failed early would still display every chart.
        """
        self.wait_done(self.start_run_all())

    def start_run_all(self) -> int:
        """``run_all`` without waiting for the end: returns the count to pass to ``wait_done``.
        Two pages can then run two notebooks at once, one kernel on each core."""
        self.lab.menu("Edit", "Clear Outputs of All Cells")
        before = self.max_count()
        self.lab.menu("Run", "Run All Cells")
        self.wait_started(before)
        return before

    def run_from(self, index: int) -> None:
        """Select cell ``index`` and choose Run → Run Selected Cell and All Below (for the last
        cell, where JupyterLab disables that item: Run Selected Cell)."""
        self.cells.nth(index).locator(".jp-InputPrompt").click()
        before = self.max_count()
        last = index == self.cells.count() - 1
        self.lab.menu("Run", "Run Selected Cell" if last else "Run Selected Cell and All Below")
        self.wait_started(before)
        self.wait_done(before)

    # reading outputs ----------------------------------------------------------------------

    def output_text(self, index: int) -> str:
        return "\n".join(self.cells.nth(index).locator(".jp-OutputArea-output").all_inner_texts())

    def stderr_outputs(self) -> list[tuple[int, str]]:
        """(cell index, text) of every stderr-coloured output: tracebacks and warnings.

        JupyterLab 4 renders an ``error`` output with the stderr MIME type (there is no separate
        class for errors), so this is the set a reader sees on red.
        """
        return self.panel.evaluate(
            """(panel, mime) => Array.from(panel.querySelectorAll('.jp-Cell'), (cell, index) =>
                Array.from(cell.querySelectorAll(`.jp-OutputArea-output[data-mime-type="${mime}"]`),
                           out => [index, out.innerText])).flat()""",
            STDERR_MIME,
        )

    def images(self) -> dict[int, list[int]]:
        """Cell index → naturalWidth of each image in its outputs (0: the image did not decode)."""
        return {
            row["index"]: row["widths"] for row in self.panel.evaluate(_IMAGES_JS) if row["widths"]
        }

    # editing ------------------------------------------------------------------------------

    def type_into(self, index: int, code: str) -> str:
        """Click the cell's editor, select all, type ``code`` key by key; returns the editor text."""
        editor = self.cells.nth(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.type(code)
        self.page.keyboard.press("Escape")  # back to command mode, as after typing
        return "\n".join(editor.locator(".cm-line").all_inner_texts())

    # the whole tab ------------------------------------------------------------------------

    def screenshot(self, folder: Path, name: str) -> Path:
        """The whole notebook in one PNG: the window grows to the notebook's height for the shot."""
        outer = self.panel.locator(".jp-WindowedPanel-outer")
        size = self.page.viewport_size
        extra = size["height"] - outer.evaluate("e => e.clientHeight")  # menus, toolbar, status bar
        height = min(extra + outer.evaluate("e => e.scrollHeight"), 32_000)
        self.page.set_viewport_size({"width": size["width"], "height": height})
        try:
            # JupyterLab lays out on resize in the next frame; then show the notebook from its top
            self.page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            outer.evaluate("e => { e.scrollTop = 0; }")
            self.page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            path = folder / f"{name}.png"
            self.page.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(size)
        print(f"screenshot: {path}")
        return path

    def close(self) -> None:
        """File → Close Tab, discarding the run's changes; the kernel is shut down meanwhile."""
        sessions = [
            s["id"] for s in self.lab.server.api("/api/sessions") if s.get("path") == self.path
        ]
        dirty = self.page.locator(
            ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current.jp-mod-dirty"
        ).count()
        assert self.panel.is_visible(), f"{self.path} is not the current tab"
        self.lab.menu("File", "Close Tab")
        if dirty:  # "Save your work": Cancel / Discard / Save
            self.page.locator(".jp-Dialog button", has_text=re.compile("^Discard$")).click()
        self.panel.wait_for(state="detached")
        for session in sessions:
            self.lab.server.in_background(f"/api/sessions/{session}", "DELETE")


class JupyterLab:
    """The JupyterLab application in one browser page."""

    def __init__(self, page: Any, server: LabServer, workspace: str = "browser-tests") -> None:
        self.page, self.server, self.workspace = page, server, workspace
        self.opened: list[Notebook] = []

    def open_app(self) -> None:
        # A workspace of our own, reset: nothing restored from an earlier run (and a page of
        # its own for each JupyterLab window, so two windows do not overwrite each other's layout).
        self.page.goto(
            f"{self.server.base}/lab/workspaces/{self.workspace}?reset&token={self.server.token}"
        )
        self.page.locator(".jp-DirListing-item").first.wait_for(timeout=APP_TIMEOUT)

    def failure_screenshot(self, name: str) -> Path:
        """The window as it is now, to see why a wait failed."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"FAILED-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
        self.page.screenshot(path=str(path))
        return path

    def menu(self, top: str, item: str) -> None:
        """Click a top-level menu, then an item by its label (shortcut hints are not part of it)."""
        self.page.locator(
            ".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")
        ).click()
        label = self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$"))
        entry = self.page.locator(".lm-Menu .lm-Menu-item").filter(has=label)
        if "lm-mod-disabled" in (entry.get_attribute("class") or ""):
            self.page.keyboard.press("Escape")
            raise AssertionError(f"menu {top} → {item} is disabled here")
        entry.click()

    def open(self, path: str) -> Notebook:
        """File → Open from Path…, type the path, Enter; waits until the cells are on screen and
        the kernel is ready to run them."""
        self.menu("File", "Open from Path…")
        field = self.page.locator(".jp-Dialog input")
        field.fill(path)
        field.press("Enter")
        current = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        current.locator(".jp-Cell").first.wait_for(timeout=APP_TIMEOUT)
        # pin this tab: later tabs must not change what the Notebook's locators point at
        panel = self.page.locator(f'.jp-NotebookPanel[id="{current.get_attribute("id")}"]')
        notebook = Notebook(self, path, panel)
        self.opened.append(notebook)
        # Run before the kernel is connected and JupyterLab silently skips every cell, so wait
        # for the status bar to say "<kernel> | Idle" for this file (it says "No Kernel" and
        # "Connecting" before; the toolbar's execution indicator reads "idle" with no kernel).
        status = self.page.locator(
            f'#jp-main-statusbar [title="Change kernel for {Path(path).name}"]'
        )
        status.filter(has_text=re.compile(r"^(?!No Kernel).*\| Idle$")).wait_for(
            timeout=APP_TIMEOUT
        )
        return notebook

    def close_all(self) -> None:
        """Close what a test left open (after a failure too), so the next test starts clean."""
        for notebook in self.opened:
            if notebook.panel.count():
                with contextlib.suppress(Exception):  # best effort: the test already failed
                    self.page.keyboard.press("Escape")  # a dialog or menu left open
                    notebook.close()
        self.opened.clear()


@contextlib.contextmanager
def _lab_window(browser: Any, server: LabServer, workspace: str) -> Iterator[JupyterLab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # the network is closed: a request leaving this machine would only hang until it times out
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(30_000)
    app = JupyterLab(page, server, workspace)
    app.open_app()
    try:
        yield app
    finally:
        context.close()


@pytest.fixture(scope="module")
def lab(browser: Any, lab_server: LabServer) -> Iterator[JupyterLab]:
    """One JupyterLab page for a test module; notebooks open and close as tabs inside it."""
    with _lab_window(browser, lab_server, "browser-tests") as app:
        yield app


@pytest.fixture(scope="module")
def second_lab(browser: Any, lab_server: LabServer) -> Iterator[JupyterLab]:
    """A second JupyterLab window on the same server: a second trainee, or the same one with two
    lessons open; tests run a notebook in each at once to use both cores."""
    with _lab_window(browser, lab_server, "browser-tests-2") as app:
        yield app


@pytest.fixture
def open_notebook(lab: JupyterLab) -> Iterator[Any]:
    """``open_notebook(path)`` → Notebook; whatever it opened is closed after the test, passed
    or failed."""
    yield lab.open
    lab.close_all()


@pytest.fixture
def open_second(second_lab: JupyterLab) -> Iterator[Any]:
    """``open_notebook`` for the second window."""
    yield second_lab.open
    second_lab.close_all()
