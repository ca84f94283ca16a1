"""pin_threads limits numpy's BLAS to the requested thread count."""
import pytest

from rnn_helpers.training.threads import blas_threads, pin_threads


def test_pin_threads_sets_every_blas_library_to_one_thread(capsys):
    counts = pin_threads(1)
    assert counts and set(counts.values()) == {1}
    assert blas_threads() == counts
    assert capsys.readouterr().out.startswith("BLAS threads pinned to 1")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_pin_threads_rejects_what_is_not_a_positive_int(bad):
    with pytest.raises(ValueError, match="threads must be a positive int"):
        pin_threads(bad)


def test_pin_threads_loads_numpy_first_so_a_fresh_process_is_pinned():
    import subprocess
    import sys
    code = ("from rnn_helpers.training.threads import pin_threads\n"
            "counts = pin_threads(quiet=True)\n"
            "assert counts and set(counts.values()) == {1}, counts\n")
    subprocess.run([sys.executable, "-c", code], check=True)
