"""Claims a notebook makes about its own results, checked when it runs.

Every quantitative or comparative sentence in a notebook's prose has a check next to the
computation it describes::

    from rnn_helpers.lessons.claims import claim
    claim(mse < 0.01, f"LSTM validation MSE {mse:.4f} < 0.01")

prints ``✓ LSTM validation MSE 0.0014 < 0.01`` when it holds and raises ``ClaimFailed``
(which stops the notebook, so the test suite that runs every notebook fails) when it does
not. Claims live in ordinary cells, never in graded ones.
"""
import numpy as np


class ClaimFailed(AssertionError):
    """A statement of the notebook's prose does not hold for this run's results."""


def claim(holds, statement):
    """Print ``✓ statement`` if ``holds`` is true; raise ``ClaimFailed`` otherwise.

    Returns nothing, so that a claim at the end of a cell shows only its line.

    ``holds`` must be a bool (or a numpy bool), so that an array or a number passed by
    mistake does not count as true.
    """
    if not isinstance(holds, (bool, np.bool_)):
        raise TypeError(f"claim: holds must be a bool, got {type(holds).__name__} "
                        f"(for the claim {statement!r})")
    if not isinstance(statement, str) or not statement:
        raise ValueError("claim: statement must be a non-empty string")
    if not holds:
        raise ClaimFailed(f"✗ the notebook claims: {statement}; this run's results contradict it")
    print(f"✓ {statement}")
