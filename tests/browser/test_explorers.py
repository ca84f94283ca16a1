"""The explorers of notebooks 03 and 09 used with the mouse and the keyboard in JupyterLab."""
import pytest

from .conftest import kernel_eval

pytestmark = pytest.mark.xdist_group("browser")

NB03 = "03_vanishing_gradients/03_vanishing_gradients.ipynb"
NB09 = "solution_09_attention/09_attention.ipynb"


def truncated_labels(output):
    """Texts of the labels and buttons in ``output`` that do not fit their box (shown with …)."""
    return output.evaluate("""root => [...root.querySelectorAll(
            '.widget-label, .widget-toggle-button, .widget-readout, .widget-html-content')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
        .map(e => e.textContent.trim())""")


def image_state(img):
    return img.evaluate("e => ({src: e.src, natural: e.naturalWidth, shown: e.getBoundingClientRect().width})")


def shown_explorer(nb, at):
    """Run the explorer's cell ``at``; check that its labels are readable and its picture is
    not upscaled (as sharp as an inline plot). Returns the output area, the img and its state."""
    nb.run(at)
    output = nb.cell(at).locator(".jp-Cell-outputArea")
    img = output.locator("img")
    img.wait_for()
    assert truncated_labels(output) == []
    state = image_state(img)
    assert state["natural"] >= state["shown"] > 300, f"the picture is upscaled, hence blurred: {state}"
    return output, img, state


def test_dragging_the_spectral_radius_past_one_redraws_the_decay_plot(open_notebook):
    nb = open_notebook(NB03)
    nb.run(nb.index("from rnn_helpers"))
    output, img, before = shown_explorer(nb, nb.index("DecayExplorer("))
    slider = output.locator(".widget-slider", has_text="spectral radius")
    handle = slider.locator(".noUi-handle")
    track = slider.locator(".noUi-target")
    pixels_before = img.screenshot()
    kernel = nb.kernel()
    try:
        assert kernel_eval(kernel, "explorer.current.spectral_radius") == pytest.approx(0.9)
        slider.scroll_into_view_if_needed()
        box, knob = track.bounding_box(), handle.bounding_box()
        low, high = 0.1, 1.5                                    # the slider's range
        target_x = box["x"] + box["width"] * (1.2 - low) / (high - low)
        nb.page.mouse.move(knob["x"] + knob["width"] / 2, knob["y"] + knob["height"] / 2)
        nb.page.mouse.down()
        nb.page.mouse.move(target_x, knob["y"] + knob["height"] / 2, steps=12)
        nb.page.mouse.up()
        nb.page.wait_for_function("([e, src]) => e.src !== src && e.complete",
                                  arg=[img.element_handle(), before["src"]], timeout=20_000)
        readout = float(slider.locator(".widget-readout").inner_text())
        assert 1.1 < readout < 1.3
        rho = kernel_eval(kernel, "explorer.current.spectral_radius")
        assert rho == pytest.approx(readout, abs=0.006)
        title = kernel_eval(kernel, "explorer.panels.ax_norms.get_title()")
        assert "no guarantee" in title and f"ρ = {readout:.2f}" in title
        measured = kernel_eval(kernel, "explorer.lines['measured'].get_ydata().tolist()")
        assert measured[-1] > 1.0, "past rho = 1 the linear recurrence's gradient should grow"
    finally:
        kernel.stop_channels()
    assert img.screenshot() != pixels_before, "the picture on the page did not change"


def test_the_attention_explorer_answers_a_typed_date_and_clears_a_rejected_one(open_notebook):
    nb = open_notebook(NB09)
    at = nb.index("AttentionExplorer(", nb.index("## 7."))
    nb.run_up_to(at, timeout=120_000)
    output, img, first = shown_explorer(nb, at)
    box = output.locator(".widget-text input")
    message = output.locator(".widget-html-content")
    box.fill("December 24, 2015")
    box.press("Enter")
    message.filter(has_text="December 24, 2015").wait_for()
    nb.page.wait_for_function("([e, src]) => e.src !== src && e.complete && e.naturalWidth > 0",
                              arg=[img.element_handle(), first["src"]], timeout=20_000)
    text = message.inner_text()
    prediction = text.split("→")[-1].strip()
    assert len(prediction) == 10 and prediction[4] == prediction[7] == "-", text
    kernel = nb.kernel()
    try:
        assert kernel_eval(kernel, "explorer.prediction") == prediction
        assert kernel_eval(kernel, "list(explorer.alpha.shape)")[1] == len("December 24, 2015")
        box.fill("24/12/2015 ✓")
        box.press("Enter")
        message.filter(has_text="cannot read").wait_for()
        nb.page.wait_for_function("e => !e.src || e.naturalWidth === 0 || !e.offsetParent",
                                  arg=img.element_handle(), timeout=20_000)
        assert kernel_eval(kernel, "[explorer.prediction, explorer.alpha, len(explorer.image.value)]") == [None, None, 0]
    finally:
        kernel.stop_channels()
