"""Inputs and mistake-naming checks for notebook 08's exercises (the BiRNN and the stacked RNN).

When a student's result differs from the course's, a test cell asks these functions which typical
wrong computation it matches (a BiRNN's backward half started from the wrong initial state, stored
in the order it was computed or read left to right, the halves swapped; the backward direction's
gradient at the mirrored position; a stack's gradients in reverse order or taken at the wrong
layer) and shows the message they return, or nothing when none matches. ``stacked_test_inputs``
draws the inputs of a stack and the caches of its forward pass in the format of Exercise 3. Each
takes ``reference``, the course's module that the test cell loaded with
``grading.load_reference``, so that the wrong results are built from a fresh copy. They live here
rather than in the notebook's cells, so that a student who edits or deletes a cell cannot break
the tests of an exercise.
"""
import numpy as np


def birnn_forward_mistake(reference, hs, x, h0, params):
    """What is wrong with hs when it equals the output of a typical wrong BiRNN forward pass, else None
    (used by the tests; the wrong outputs are built from the course's birnn_forward)."""
    H = h0.shape[-1]
    right = reference.birnn_forward(x, h0, *params)[0]
    if np.shape(hs) != right.shape:
        return None
    both_from = lambda k: reference.birnn_forward(x, np.stack([h0[k], h0[k]]), *params)[0]
    variants = {
        "the backward half is that of a backward RNN started from h0[0]; it starts from h0[1]":
            (right[..., :H], both_from(0)[..., H:]),
        "the forward half is that of a forward RNN started from h0[1]; it starts from h0[0]":
            (both_from(1)[..., :H], right[..., H:]),
        "the two halves are swapped: hs[..., :H] holds the backward states": (right[..., H:], right[..., :H]),
        "hs[..., H:] holds the backward states in the order they were computed: position t holds the state "
        "that has read x[T-1], ..., x[T-1-t], where the state that has read x[T-1], ..., x[t] belongs":
            (right[..., :H], right[::-1, :, H:]),
        "hs[..., H:] holds the states of an RNN that read x from left to right with the backward parameters: "
        "the backward direction reads the sequence from its end":
            (right[..., :H], reference.birnn_forward(x[::-1], h0, *params)[0][::-1, :, H:]),
    }
    for message, (first, second) in variants.items():
        wrong = np.concatenate([first, second], axis=-1)
        if not np.allclose(wrong, right) and np.allclose(hs, wrong):    # hs has the shape of right here
            return message
    return None


def birnn_backward_mistake(reference, grads, dhs, x, h0, params):
    """What is wrong with birnn_backward's gradients when they equal those of a typical wrong backward pass,
    else None (used by the tests; the wrong gradients are built from the course's BiRNN)."""
    H = dhs.shape[-1] // 2
    cache = reference.birnn_forward(x, h0, *params)[1]
    backward = lambda upstream: reference.birnn_backward(upstream, cache)
    zeros = np.zeros_like(dhs[..., :H])
    right = backward(dhs)
    forward_only = backward(np.concatenate([dhs[..., :H], zeros], axis=-1))      # the loss seen through one half
    backward_only = backward(np.concatenate([zeros, dhs[..., H:]], axis=-1))
    misaligned = backward(np.concatenate([dhs[..., :H], dhs[::-1, :, H:]], axis=-1))
    halves_swapped = backward(np.concatenate([dhs[..., H:], dhs[..., :H]], axis=-1))
    candidates = [
        (1, right[1][::-1], "dh0 has its two halves swapped: dh0[0] holds the backward direction's initial-state "
                            "gradient"),
        (0, forward_only[0] + backward_only[0][::-1], "dx: the backward direction's contribution to dx[t] sits at "
                                                      "the mirrored position T-1-t"),
        (0, misaligned[0], "dx matches a backward pass in which the backward direction's step that produced "
                           "position T-1-t received the upstream gradient of position t"),
        (0, forward_only[0], "dx is missing the backward direction's contribution: x feeds both directions"),
        (0, backward_only[0], "dx is missing the forward direction's contribution: x feeds both directions"),
        (6, misaligned[6], "dW_rev matches a backward direction whose step that produced position T-1-t received "
                           "the upstream gradient of position t"),
        (3, halves_swapped[3], "dW_fwd matches the gradient computed from the backward half of dhs, dhs[..., H:]: "
                               "the forward states are the first H values"),
    ]
    for index, wrong, message in candidates:
        got = grads[index] if isinstance(grads, tuple) and len(grads) == 8 else None
        if (got is not None and np.shape(got) == np.shape(wrong) and not np.allclose(wrong, right[index])
                and np.allclose(got, wrong)):
            return message
    return None


def stacked_test_inputs(reference, rng, T, N, D, H, L):
    """Random inputs of a stack drawn from rng, the caches of its forward pass (the course's, as the list that
    Exercise 3 returns: each (x, h0, U, W, hs) like the given rnn_forward's) and a random dhs (used by the tests)."""
    x, h0 = rng.normal(size=(T, N, D)), rng.normal(size=(L, N, H))
    layers = [(rng.normal(size=(H, D if l == 0 else H)) / 2, rng.normal(size=(H, H)) / 2, rng.normal(size=H) / 2)
              for l in range(L)]
    caches = list(reference.stacked_rnn_forward(x, h0, layers)[1].layers)
    return x, h0, layers, caches, rng.normal(size=(T, N, H))


def stacked_backward_mistake(reference, result, dhs, x, h0, layers):
    """What is wrong with stacked_rnn_backward's result when it equals that of a typical wrong backward pass,
    else None (used by the tests; the wrong results are built from the course's deep_rnn)."""
    dx, dh0, grads = result
    right_dx, right_dh0, right_grads = reference.stacked_rnn_backward(dhs, reference.stacked_rnn_forward(x, h0, layers)[1])
    below_top = reference.stacked_rnn_forward(x, h0[:-1], layers[:-1])[0] if len(layers) > 1 else x
    top_alone = reference.stacked_rnn_forward(below_top, h0[-1:], layers[-1:])[1]        # the top layer on its own
    bottom_alone = reference.stacked_rnn_forward(x, h0[:1], layers[:1])[1]               # the bottom layer on its own
    mistakes = [
        (dh0, right_dh0, right_dh0[::-1], "dh0 is in the reverse order: dh0[0] holds the top layer's initial-state "
                                          "gradient"),
        (dx, right_dx, reference.stacked_rnn_backward(dhs, top_alone)[0],
         "dx is the gradient with respect to the inputs of the top layer (the states of the layer below it), "
         "not with respect to x"),
        (dx, right_dx, reference.stacked_rnn_backward(dhs, bottom_alone)[0],
         "dx matches a bottom layer that received dhs, the gradient on the top layer's states: the loss reaches "
         "the states of a lower layer only through the layer above it"),
    ]
    same = lambda a, b: np.shape(a) == np.shape(b) and np.allclose(a, b)
    for got, right, wrong, message in mistakes:
        if same(got, wrong) and not same(wrong, right):
            return message
    all_same = lambda a, b: all(same(g, w) for got, want in zip(a, b) for g, w in zip(got, want))
    if (isinstance(grads, (list, tuple)) and len(grads) == len(layers) > 1
            and all(isinstance(g, (list, tuple)) and len(g) == 3 for g in grads)
            and all_same(grads, right_grads[::-1]) and not all_same(right_grads, right_grads[::-1])):
        return "grads is in the reverse order: grads[0] should belong to layers[0], the bottom layer"
    return None
