"""A real JupyterLab in a real (headless) Chromium, driven by Playwright.

The server is started by the tests on 127.0.0.1 (a free port, a random token, its own
settings, workspace and runtime folders) on a temporary copy of the notebooks, in the
student setup of ``make lab`` (the instructor's nbgrader extensions and the news pop-up
disabled by ``hub/laptop_lab`` and ``hub/student_lab``). The browser is the distribution's Chromium (``/usr/bin/chromium``,
or the executable named by ``RNN_COURSE_CHROMIUM``): the tests skip, saying why, where
there is none or where Playwright is not installed. A failing test leaves a screenshot
of the page in ``test-artifacts/browser/`` (the path is printed with the failure).
"""
import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

CHROMIUM = pathlib.Path(os.environ.get("RNN_COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 # a test presses play on a tune without a real click
                 "--autoplay-policy=no-user-gesture-required"]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
# The configuration folders of `make lab`, in its order (the Makefile's JUPYTER_CONFIG_PATH).
STUDENT_LAB = [ROOT / "hub" / "laptop_lab", ROOT / "hub" / "student_lab"]
# User settings of the test's JupyterLab: every cell stays in the page (no windowing).
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab: ``url(path)`` gives the address of a file with the token."""

    def __init__(self, root, port, token, process, log, runtime):
        self.root, self.port, self.token, self.process, self.log = root, port, token, process, log
        self.runtime = runtime

    def url(self, path=""):
        """The address of ``path`` in a fresh workspace (no tabs left open by another test)."""
        return f"http://127.0.0.1:{self.port}/lab/workspaces/{secrets.token_hex(4)}/tree/{path}?token={self.token}"

    def log_tail(self):
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture(scope="session")
def sync_playwright_browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set RNN_COURSE_CHROMIUM); "
                    ".ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def lab(sync_playwright_browser, tmp_path_factory):
    """JupyterLab on a copy of notebooks/ (students' versions) and of solutions/09_attention."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "course"
    shutil.copytree(ROOT / "notebooks", root)
    # The attention explorer needs a trained model: the instructor's version runs without stopping.
    shutil.copytree(ROOT / "solutions" / "09_attention", root / "solution_09_attention")
    settings = base / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_PATH=os.pathsep.join(map(str, STUDENT_LAB)), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               # The notebooks shorten their training under the autograder's variable.
               NBGRADER_EXECUTION="autograde")
    env["PATH"] = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log = base / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
               "--ServerApp.open_browser=False"] + (["--allow-root"] if os.geteuid() == 0 else [])
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    server = Lab(root, port, token, process, log, base / "runtime")
    try:
        deadline = time.monotonic() + 180    # a loaded machine can take minutes
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{server.log_tail()}")
                time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def page(sync_playwright_browser, lab, request):
    """A fresh browser page; on failure its screenshot is kept in test-artifacts/browser/."""
    context = sync_playwright_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / f"{request.node.name}.png"
        page.screenshot(path=str(shot), full_page=False)
        print(f"\nscreenshot of the failure: {shot}\nJupyterLab log:\n{lab.log_tail()}")
    context.close()


class Notebook:
    """A notebook opened in the page: find cells by their source, run them, type into them."""

    def __init__(self, page, lab, path):
        self.page, self.lab, self.path = page, lab, path
        self.cells = json.loads((lab.root / path).read_text(encoding="utf-8"))["cells"]
        page.goto(lab.url(path))
        self.panel = page.locator(".jp-NotebookPanel:visible")
        self.kernel_status().wait_for(state="attached", timeout=60_000)
        self.kernel_status().and_(page.locator("[data-status='idle']")).wait_for(timeout=60_000)

    def kernel_status(self):
        return self.panel.locator(".jp-Notebook-ExecutionIndicator")

    def index(self, text, start=0):
        """Index of the first cell at or after ``start`` whose source holds ``text``."""
        for i, cell in enumerate(self.cells[start:], start):
            if text in "".join(cell["source"]):
                return i
        raise LookupError(f"no cell of {self.path} holds {text!r}")

    def cell(self, i):
        return self.panel.locator(".jp-Notebook .jp-Cell").nth(i)

    def select(self, i):
        cell = self.cell(i)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Escape")
        return cell

    def wait_executed(self, i, timeout=60_000):
        prompt = self.cell(i).locator(".jp-InputPrompt")
        prompt.filter(has_text=re.compile(r"\[\d+\]")).wait_for(timeout=timeout)

    def run(self, i, timeout=60_000):
        """Run cell i (Shift+Enter) and wait until it has finished; return its output text."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        prompt = self.cell(i).locator(".jp-InputPrompt")
        for attempt in range(3):
            self.select(i)
            self.page.keyboard.press("Shift+Enter")
            try:   # a key pressed while the kernel is still connecting runs nothing: press again
                prompt.filter(has_text=re.compile(r"\[(\d+|\*)\]")).wait_for(timeout=15_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
        self.wait_executed(i, timeout)
        return self.output(i)

    def run_up_to(self, i, timeout):
        """Run the code cells above cell i one after the other, as a student steps through."""
        for j, cell in enumerate(self.cells[:i]):
            if cell["cell_type"] == "code":
                self.run(j, timeout)

    def type_into(self, i, text):
        """Replace the source of cell i by ``text`` (inserted as is, without auto-indent)."""
        editor = self.cell(i).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(text)

    def output(self, i):
        return self.cell(i).locator(".jp-Cell-outputArea").inner_text()

    def kernel(self):
        """A second client of the page's kernel, to read what the widgets plot."""
        from jupyter_client import BlockingKernelClient

        with urllib.request.urlopen(f"http://127.0.0.1:{self.lab.port}/api/sessions?token={self.lab.token}") as r:
            sessions = json.load(r)
        kernel_id = next(s["kernel"]["id"] for s in sessions if s["path"] == self.path)
        client = BlockingKernelClient(connection_file=str(self.lab.runtime / f"kernel-{kernel_id}.json"))
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=30)
        return client


def kernel_eval(client, expression):
    """The JSON value of ``expression`` in the kernel of ``client``."""
    printed = []
    reply = client.execute_interactive(
        f"import json as _json; print(_json.dumps({expression}))", timeout=30,
        output_hook=lambda msg: printed.append(msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None)
    assert reply["content"]["status"] == "ok", reply["content"]
    return json.loads("".join(printed))


@pytest.fixture
def open_notebook(page, lab):
    return lambda path: Notebook(page, lab, path)
