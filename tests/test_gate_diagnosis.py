import numpy as np

from rnn_helpers.gate_diagnosis import block_hint, wrong_blocks


def test_wrong_blocks_names_the_blocks_that_differ():
    want = np.arange(12.0).reshape(4, 3)
    got = want.copy()
    got[2, 1] += 1.0
    assert wrong_blocks(got, want, "ifgo") == ("g",)
    assert wrong_blocks(got.T, want.T, "ifgo", axis=1) == ("g",)
    assert wrong_blocks(want, want, "ifgo") == ()


def test_wrong_blocks_gives_nothing_for_other_shapes():
    assert wrong_blocks(np.zeros(6), np.zeros(8), "ifgo") == ()
    assert wrong_blocks(np.zeros(6), np.zeros(6), "ifgo") == ()


def test_block_hint_uses_the_hint_of_the_wrong_blocks_or_names_them():
    want = np.zeros(6)
    got = want.copy()
    got[4] = 1.0
    assert block_hint(got, want, "rzn", {("n",): "the candidate"}) == "the candidate"
    got[0] = 1.0
    assert block_hint(got, want, "rzn", {("n",): "the candidate"}).startswith("the blocks of r, n are wrong")
    assert block_hint(want, want, "rzn", {}) == ""
