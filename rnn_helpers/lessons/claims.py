"""Claims a notebook makes about its own results, checked when it runs.

Every quantitative or comparative sentence in a notebook's prose has a check next to the
computation it describes::

    from rnn_helpers.lessons.claims import claim
    claim(mse < 0.01, f"LSTM validation MSE {mse:.4f} < 0.01")

prints ``checked on the course's code: LSTM validation MSE 0.0014 < 0.01`` when it holds and
raises ``ClaimFailed`` (which stops the notebook, so the test suite that runs every notebook
fails) when it does not. Claims live in ordinary cells, never in graded ones, and run on the
course's reference code, never on a student's answer: the line says so, so that under an
unfinished exercise it cannot be read as a passed test.

In the sealed environment (``instructor/sealing.py``) the course's versions of the exercises are
not shipped, and the experiments run on the student's own functions. Once any has, a claim says
which (``(in this sealed environment your own rnn_forward ran in place of the course's, ...)``, again
when the list grows) and prints ``checked on this run's results: ...``; one that does not hold
prints ``✗ not seen in this run's results: ...`` and the notebook goes on: a wrong answer changes
the results, which does not make the notebook's statement false.
"""
import os
import sys

import numpy as np


#: What every line of a holding claim starts with.
PREFIX = "checked on the course's code: "


class ClaimFailed(AssertionError):
    """A statement of the notebook's prose does not hold for this run's results."""


def claim(holds, statement):
    """Print ``checked on the course's code: statement`` if ``holds`` is true; raise ``ClaimFailed`` otherwise
    (after the sealed environment ran the student's functions: say so, and print a claim that fails).

    Returns nothing, so that a claim at the end of a cell shows only its line.

    ``holds`` must be a bool (or a numpy bool), so that an array or a number passed by
    mistake does not count as true.
    """
    if not isinstance(holds, (bool, np.bool_)):
        raise TypeError(f"claim: holds must be a bool, got {type(holds).__name__} "
                        f"(for the claim {statement!r})")
    if not isinstance(statement, str) or not statement:
        raise ValueError("claim: statement must be a non-empty string")
    global _named
    yours = _students_functions()
    if yours:
        if yours != _named:
            print(f"(in this sealed environment your own {', '.join(yours)} ran in place of the course's, which "
                  f"are not shipped here: the results below may come from them)")
            _named = yours
        print(f"checked on this run's results: {statement}" if holds else
              f"✗ not seen in this run's results: {statement}; the course's code gives it: check your own "
              f"{', '.join(yours)} with their exercises' tests")
        return
    if not holds:
        raise ClaimFailed(f"✗ the notebook claims: {statement}; this run's results contradict it")
    print(f"{PREFIX}{statement}")


#: The student's functions that the last claim named (a claim names them again when they change).
_named = []


def _students_functions():
    """The student's functions that the sealed environment ran in this kernel in place of the course's."""
    return sorted(getattr(sys.modules.get("rnn_helpers.instructor.sealing"), "RAN_THE_STUDENTS", {}))


#: Set by the test suite: a timing claim that does not hold then fails the run.
STRICT_TIMINGS = "RNN_COURSE_STRICT_TIMINGS"


def timing_claim(holds, statement):
    """A claim about this run's timings, which a busy machine can upset.

    Prints like ``claim`` when it holds. When it does not, it prints ``not seen in this run:
    statement`` and the notebook goes on, so that a Run All on a loaded laptop never stops
    on a time. The test suite sets ``RNN_COURSE_STRICT_TIMINGS=1`` (threads pinned), and
    there a timing claim that does not hold raises ``ClaimFailed`` like any other: state it
    with a margin that survives a loaded machine.
    """
    if not isinstance(holds, (bool, np.bool_)):
        raise TypeError(f"timing_claim: holds must be a bool, got {type(holds).__name__} "
                        f"(for the claim {statement!r})")
    if holds or os.environ.get(STRICT_TIMINGS):
        claim(holds, statement)
    else:
        print(f"not seen in this run (timings depend on the machine's load): {statement}")
