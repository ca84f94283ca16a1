"""Notebook 01 as a student meets it in `make lab`: the first exercise answered right, then
wrong, and no instructor tools in the menus."""
import pytest

pytestmark = pytest.mark.xdist_group("browser")

NB01 = "01_sequences/01_sequences.ipynb"
RIGHT = '''def rnn_step_forward(x_t, h_prev, U, W, b):
    h_t = np.tanh(x_t @ U.T + h_prev @ W.T + b)
    return h_t, (x_t, h_prev, U, W, b, h_t)
'''
# The likely mistake the test cell names: W not transposed.
WRONG = RIGHT.replace("h_prev @ W.T", "h_prev @ W")


def test_the_first_exercise_says_passed_for_a_right_answer_and_names_the_mistake_otherwise(open_notebook):
    nb = open_notebook(NB01)
    nb.run(nb.index("import numpy as np"))
    answer = nb.index("def rnn_step_forward")
    shape_test, value_test = (nb.index("rnn_step_forward: shape test passed"),
                              nb.index("rnn_step_forward: value tests passed"))
    nb.type_into(answer, RIGHT)
    nb.run(answer)
    assert "shape test passed" in nb.run(shape_test)
    assert "value tests passed" in nb.run(value_test)
    nb.type_into(answer, WRONG)
    nb.run(answer)
    assert "shape test passed" in nb.run(shape_test)      # the shape is still right
    message = nb.run(value_test)
    assert "AssertionError" in message and "the wrong way round" in message, message
    # The traceback quotes the cell's source (its print line among it); no line of output says passed.
    assert not [line for line in message.splitlines() if line.strip().endswith("passed")], message


def test_students_see_no_formgrader_and_no_create_assignment(open_notebook):
    nb = open_notebook(NB01)
    page = nb.page
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    menu = page.locator(".lm-Menu").last
    menu.wait_for()
    items = [t.strip() for t in menu.locator(".lm-Menu-itemLabel").all_inner_texts() if t.strip()]
    page.keyboard.press("Escape")
    # No hub, no exchange: the assignment list is off too (Validate stays, in the toolbar).
    assert not {"Assignment List", "Formgrader", "Formgrader (local)", "Courses"} & set(items), items
    assert page.get_by_text("Create Assignment").count() == 0
    assert page.get_by_title("Create Assignment").count() == 0


def test_a_fresh_notebook_shows_no_pop_up(open_notebook):
    nb = open_notebook(NB01)
    nb.page.wait_for_timeout(3000)          # the news question used to appear within a second
    toasts = nb.page.locator(".Toastify__toast")
    assert toasts.count() == 0, toasts.all_inner_texts()


def disabled_lab_plugins(config_paths):
    """The JupyterLab plugins disabled for a lab started with JUPYTER_CONFIG_PATH=config_paths."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"}
    if config_paths:
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(map(str, config_paths))
    listing = subprocess.run([sys.executable, "-m", "jupyterlab.labextensions", "list"], env=env,
                             capture_output=True, text=True, check=True)
    text = listing.stdout + listing.stderr
    section = text.split("Disabled extensions:", 1)[1] if "Disabled extensions:" in text else ""
    return {line.strip() for line in section.splitlines() if line.strip().startswith("@")}


def test_make_lab_hides_the_instructor_tools_and_the_instructor_lab_keeps_them():
    from .conftest import ROOT, STUDENT_LAB

    makefile = (ROOT / "Makefile").read_text()
    assert ("lab: export JUPYTER_CONFIG_PATH := "
            + ":".join(f"$(CURDIR)/{p.relative_to(ROOT)}" for p in STUDENT_LAB)) in makefile
    instructor_tools = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                        "@jupyter/nbgrader:course-list"}
    laptop = disabled_lab_plugins(STUDENT_LAB)
    assert instructor_tools | {"@jupyter/nbgrader:assignment-list"} <= laptop
    hub_students = disabled_lab_plugins(STUDENT_LAB[1:])      # the hub's students fetch and submit
    assert instructor_tools <= hub_students and "@jupyter/nbgrader:assignment-list" not in hub_students
    assert not instructor_tools & disabled_lab_plugins(None)


NB07 = "07_generation/07_generation.ipynb"


@pytest.mark.slow
def test_an_untouched_notebook_07_plays_a_tune(open_notebook):
    """A student stuck on every exercise steps through 07 with Shift+Enter and still hears
    music: the tune cell shows an audio player whose WAV loads and plays."""
    nb = open_notebook(NB07)
    at = nb.index("Audio(synthesise(", nb.index("## 6."))
    nb.run_up_to(at, timeout=300_000)
    nb.run(at, timeout=300_000)
    audio = nb.cell(at).locator(".jp-Cell-outputArea audio").first
    audio.wait_for(state="attached")
    state = audio.evaluate("""async e => {
        if (e.readyState < 1) await new Promise((ok, fail) => {
            e.addEventListener('loadedmetadata', ok, {once: true});
            e.addEventListener('error', () => fail(new Error('the audio did not load')), {once: true});
        });
        await e.play();
        await new Promise(ok => setTimeout(ok, 1500));
        return {src: e.currentSrc.slice(0, 22), duration: e.duration, time: e.currentTime,
                paused: e.paused, error: e.error && e.error.code};
    }""")
    assert state["src"].startswith("data:audio/wav"), state
    assert state["error"] is None and state["duration"] > 2, state
    assert state["time"] > 0.5 and not state["paused"], f"the tune does not play: {state}"
