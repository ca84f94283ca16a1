"""Name the likely mistake behind a wrong answer to notebook 04's exercises.

``longest_step_problem`` compares a student's bounds on a clipped step (Exercise 2) with the
right ones; ``skip_states_mistake`` recognises the typical wrong forward pass with skip
connections (Exercise 4: zeros instead of h0 before the start). Each returns the message a
test cell shows, or None; the messages say what is wrong with the result, not how to compute
it. They live here rather than in the test cells so that the student version of the notebook
shows no answer, right or wrong.
"""
import numpy as np


def longest_step_problem(result, shapes, lr, threshold):
    """What is wrong with ``result`` as the answer of ``longest_clipped_step(shapes, lr, threshold)``.

    Returns a message naming the problem, or None when both bounds are right.
    """
    if not isinstance(result, dict) or sorted(result) != ["norm", "value"]:
        return 'longest_clipped_step should return a dict with the keys "norm" and "value"'
    P = sum(int(np.prod(shape)) for shape in shapes.values())
    where = f"for shapes {shapes}, lr {lr}, threshold {threshold}"
    by_norm, by_value = lr * threshold, lr * threshold * np.sqrt(P)
    try:
        got_norm, got_value = float(result["norm"]), float(result["value"])
    except (TypeError, ValueError):
        return f'the two bounds should be numbers, but your dict holds {result!r}'
    if not np.isclose(got_norm, by_norm, rtol=1e-7, atol=0):
        return (f'result["norm"] {where} is {got_norm:.6g}: this is not the length of the longest '
                f"norm-clipped step for these settings")
    mistakes = [  # the first match names the mistake
        (by_norm, "that is the norm-clipped bound, but a value-clipped gradient can be longer than the "
                  "threshold: which gradients does value clipping leave longest?"),
        (by_norm * P, "that adds up the lengths of the components, but the length of a vector is not the "
                      "sum of its components' sizes"),
        (threshold * np.sqrt(P), "that is a length of the clipped gradient, not of the step the learning rate "
                                 "makes from it"),
        (by_norm * np.sqrt(len(shapes)), "that counts the arrays, but every entry of every array is a "
                                         "component of the gradient"),
        (by_norm * np.sqrt(max(int(np.prod(s)) for s in shapes.values())),
         "count the entries of every array: one global norm over all of them"),
    ]
    if np.isclose(got_value, by_value, rtol=1e-7, atol=0):
        return None
    message = next((text for wrong, text in mistakes if not np.isclose(wrong, by_value) and np.isclose(got_value, wrong)),
                   "this is not the length of the longest value-clipped step for these settings")
    return f'result["value"] {where} is {got_value:.6g}: {message}'


def skip_states_mistake(hs, x, h0, U, W, W_skip, b, d):
    """A message if the hidden states ``hs`` of the skip-connection RNN read zeros before the start, else None."""
    zeros_before_start = np.empty((x.shape[0],) + np.shape(h0))
    for t in range(x.shape[0]):
        h_prev = zeros_before_start[t - 1] if t >= 1 else h0
        h_skip = zeros_before_start[t - d] if t >= d else np.zeros_like(h0)
        zeros_before_start[t] = np.tanh(x[t] @ U.T + h_prev @ W.T + h_skip @ W_skip.T + b)
    if np.shape(hs) == zeros_before_start.shape and np.allclose(hs, zeros_before_start):
        return ("for t < d your skip term reads zeros (or hs[t - d], whose negative index reads the end of hs, "
                "not yet computed): every state before the start is h0")
    return None
