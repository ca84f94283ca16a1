"""The sealed student environment: a copy of the course package without the answers.

``write_sealed_copy(destination)`` writes ``pyproject.toml``, ``README.md`` and a copy of
``rnn_helpers`` into ``destination`` in which every reference implementation that an
exercise asks for (``SEALED``: the function each exercise's tests compare with, and the
whole-sequence versions of an exercise's step, ``gru_forward`` running the student's
``gru_step_forward``) is reduced to its signature, the first line of its docstring and one call::

    def rnn_backward(dhs, cache):
        \"\"\"Backward through the whole sequence: dhs (T, N, H) -> dx, dh0, dU, dW, db.\"\"\"
        return _sealed_exercise(globals(), "rnn_backward", "02_bptt", dhs, cache)

Functions that compute an exercise's answer under another name (``ANSWERS``: a feedback
module's expected value, the inverse of a conversion) are reduced the same way, to a call that
names the exercise and never runs the student's function. Private helpers that only sealed
functions used (no unsealed code of their module names them, no other module imports them) are
reduced the same way, and the module's
docstring to its first paragraph (the rest can write an answer out). Everything else is
copied as it is, so the package imports and its other functions work. ``pip install`` of the
copy (``hub/install_student_env.sh ENV --sealed``, ``make sealed-lab``) compiles the .pyc from
the reduced source: the answer is in no file of the installed package.

At run time a sealed function (``exercise`` below) calls the student's own function of the
same name (or of the name in ``STUDENT_NAMES``), defined in the notebook (the kernel's ``__main__``), so that the experiments after
an exercise run on the student's answer (without the options left at their default when it
does not have them: the exercise may ask for fewer; where the exercise takes other arguments or
returns something else, through the function's adapter in ``ADAPTERS``, which only reshapes
them); when there is none, it does not take the arguments of this call, or it is not finished
(``NotImplementedError``), it raises ``ExerciseNotShipped`` with one line that says the
function is the student's exercise (in a notebook that line is all the error shows). An adapter
that cannot stand for a call (``CourseOnly``) makes it say that the call needs the course's version. A copy
made by ``grading.load_reference`` (what the notebooks' test cells compare with) never calls
the student's function: a test would otherwise compare the answer with itself. The visible
checks that need the course's version therefore stop with that line in the sealed
environment; the autograder, which runs in the instructor's environment with the full
package, grades them. An experiment after an exercise that stops on this error goes on with
the course's stored result (``rnn_helpers/precomputed.py``).

Chapters already due are open: ``write_sealed_copy(destination, open_through=k)`` keeps whole
the references of the exercises of notebooks 01..k (a later notebook trains with them: 03 and
06 with 01's ``rnn_forward``, 09 with 06's ``gru_step_forward``, ...). An instructor who
releases chapter k + 1 when chapters up to k are due seals with ``open_through=k``; the default
(``None``) seals every exercise.

Command line: ``python -m rnn_helpers.instructor.sealing DESTINATION [--open-through NN]``.
"""
import argparse
import ast
import functools
import inspect
import pathlib
import re
import shutil
import sys
from typing import NamedTuple

import numpy as np

COURSE = pathlib.Path(__file__).resolve().parents[2]

#: Module of rnn_helpers -> {function (or Class.method): notebook whose exercise it answers}.
SEALED = {
    "rnn": {"rnn_step_forward": "01_sequences", "rnn_forward": "01_sequences",
            "softmax_cross_entropy": "02_bptt", "rnn_step_backward": "02_bptt", "rnn_backward": "02_bptt"},
    "lessons.parameter_sharing": {"parameter_counts": "01_sequences"},
    "lessons.teacher_forcing": {"teacher_forced_logits": "01_sequences"},
    "lessons.truncated_bptt": {"split_for_tbptt": "02_bptt"},
    "lessons.gradient_decay": {"matrix_with_eigenvalues": "03_vanishing_gradients",
                               "jacobian_norms": "03_vanishing_gradients",
                               "_jacobian_log_norms": "03_vanishing_gradients"},
    "optim": {"clip_grad_norm": "04_long_term_dependencies", "SGD.step": "07_generation",
              "Adam.step": "07_generation"},
    "lessons.leaky_units": {"reaction_delay": "04_long_term_dependencies"},
    "lessons.skip_connections": {"skip_rnn_forward": "04_long_term_dependencies"},
    "lstm": {"lstm_step_forward": "05_lstm", "lstm_step_backward": "05_lstm", "lstm_forward": "05_lstm",
             "lstm_backward": "05_lstm", "cell_jacobian": "05_lstm"},
    "gru": {"gru_step_forward": "06_gru", "gru_step_backward": "06_gru", "gru_forward": "06_gru",
            "gru_backward": "06_gru"},
    "embedding": {"embedding_forward": "07_generation", "embedding_backward": "07_generation"},
    "lessons.language_model": {"loss_and_grads": "07_generation", "_readout_loss": "07_generation",
                               "sampling_distribution": "07_generation", "sample_tokens": "07_generation"},
    "bidirectional": {"birnn_forward": "08_bidirectional_deep", "birnn_backward": "08_bidirectional_deep"},
    "deep_rnn": {"stacked_rnn_forward": "08_bidirectional_deep", "stacked_rnn_backward": "08_bidirectional_deep"},
    "training.seq2seq": {"greedy_search": "09_attention", "beam_search": "09_attention"},
    "attention": {"attention_scores": "09_attention", "attention_forward": "09_attention",
                  "attention_backward": "09_attention", "self_attention_forward": "09_attention"},
    "torch_bridge": {"torch_to_course": "10_pytorch", "course_gru_to_torch_z_flip": "10_pytorch"},
    "training.torch_models": {"train_step": "10_pytorch"},
    "linear_rnn": {"combine": "11_linear_recurrences", "linear_scan": "11_linear_recurrences",
                   "linear_scan_backward": "11_linear_recurrences", "mingru_forward": "11_linear_recurrences",
                   "causal_linear_attention": "11_linear_recurrences"},
}

#: Module -> {function of SEALED: the student's name for it}, where the exercise names it otherwise
#: (a method: the student's ``Class.method``, built once per course object from that object's
#: attributes named like the class's parameters, so that it keeps its own state).
STUDENT_NAMES = {
    "optim": {"SGD.step": "MomentumSGD.step", "Adam.step": "AdamOptimizer.step"},
    "lessons.language_model": {"loss_and_grads": "lm_loss_and_grads", "_readout_loss": "lm_loss_and_grads"},
    "lessons.teacher_forcing": {"teacher_forced_logits": "output_to_hidden_forward"},
    "lessons.gradient_decay": {"jacobian_norms": "jacobian_product_norms",
                               "_jacobian_log_norms": "jacobian_product_norms"},
    "lessons.skip_connections": {"skip_rnn_forward": "skip_rnn_states"},
    "lstm": {"cell_jacobian": "cell_jacobian_paths", "lstm_forward": "lstm_step_forward"},
    "gru": {"gru_forward": "gru_step_forward", "gru_backward": "gru_step_backward"},
    "training.seq2seq": {"greedy_search": "greedy_decode"},
    "attention": {"self_attention_forward": "self_attention"},
    "linear_rnn": {"linear_scan": "parallel_scan", "linear_scan_backward": "scan_backward",
                   "causal_linear_attention": "linear_attention_recurrent"},
}


class CourseOnly(Exception):
    """Raised by an adapter (``ADAPTERS``) for a call that the student's function cannot stand for."""


def course_only(student, *args, **kwargs):
    """The adapter of a sealed function that no exercise computes (only the course's version can)."""
    raise CourseOnly


def _seed_as_generator(student, eigenvalues, seed=0):
    """03's matrix_with_eigenvalues(eigenvalues, rng) for the course's (eigenvalues, seed)."""
    return student(eigenvalues, np.random.default_rng(seed))


def _tanh_trajectory_norms(student, W, hs=None, nonlinearity="linear", T=None):
    """03's jacobian_product_norms(W, hs) (a tanh trajectory) for the course's jacobian_norms: a linear
    recurrence of T steps has the Jacobians of a tanh trajectory that stays at h = 0 (tanh'(0) = 1)."""
    if nonlinearity == "tanh" and T is None:
        return student(W, hs)
    if nonlinearity == "linear" and hs is None and T is not None:
        return student(W, np.zeros((T, np.shape(W)[0])))
    raise CourseOnly


def _log_norms_of_a_tanh_trajectory(student, W, derivatives):
    """03's jacobian_product_norms(W, hs) (a tanh trajectory) for the course's _jacobian_log_norms (the
    logarithms of the norms, given the slopes f'(a_t) (T, H)): the tanh trajectory with the same slopes has
    |h_t| = sqrt(1 - f'(a_t)), for slopes in [0, 1] (those of every nonlinearity of the course)."""
    derivatives = np.asarray(derivatives)
    if derivatives.size and not 0.0 <= derivatives.min() <= derivatives.max() <= 1.0:
        raise CourseOnly
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(student(W, np.sqrt(1.0 - derivatives)), dtype=np.float64))


def _states_with_cache(student, x, h0, U, W, W_skip, b, d):
    """04's skip_rnn_states (the states) for the course's skip_rnn_forward (the states and a cache)."""
    from ..lessons.skip_connections import SkipRNNCache
    hs = student(x, h0, U, W, W_skip, b, d)
    return hs, SkipRNNCache(x, h0, U, W, W_skip, d, hs)


def _jacobian_from_paths(student, x_t, c_prev, o_prev, U, W, b, through="ifg", wrt="c_prev"):
    """05's cell_jacobian_paths (direct, indirect) for the course's cell_jacobian: every path (through
    the three gates) is their sum, the direct path alone (``through=""``) the first."""
    if wrt != "c_prev" or set(through) not in ({"i", "f", "g"}, set()):
        raise CourseOnly
    direct, indirect = student(x_t, c_prev, o_prev, U, W, b)
    return direct + indirect if through else direct


def _step_caches(student, dhs, cache, dcs=None):
    """05's lstm_backward(dhs, caches, dcs) (the list of the step caches) for the course's, which
    takes the sequence's cache of lstm_forward; the gradients in the course's dtype (05's starts
    from float64 zeros)."""
    from ..lstm import LSTMStepCache
    x, h0, c0, U, W, gates, cs, hs, _ = cache
    i, f, g, o = np.split(gates, 4, axis=-1)
    h_prevs, c_prevs = np.concatenate([h0[None], hs[:-1]]), np.concatenate([c0[None], cs[:-1]])
    caches = [LSTMStepCache(x[t], h_prevs[t], c_prevs[t], U, W, i[t], f[t], g[t], o[t], cs[t]) for t in range(len(x))]
    dtype = np.result_type(gates, dhs, *([] if dcs is None else [dcs]))
    return tuple(np.asarray(grad).astype(dtype, copy=False) for grad in student(dhs, caches, dcs))


def _lstm_steps(student, x, h0, c0, U, W, b):
    """05's lstm_step_forward over the steps for the course's lstm_forward: its states, and the
    sequence's cache stacked from the steps' caches (tanh(c_t), which the cache also keeps, from the
    student's c_t), in the dtype of the course's arrays."""
    from ..lstm import LSTMCache
    h, c, hs, caches = h0, c0, [], []
    for x_t in x:
        h, c, cache = student(x_t, h, c, U, W, b)
        hs.append(h)
        caches.append(cache)
    dtype = np.result_type(x, h0, c0, U, W, b)
    hs, i, f, g, o, cs = (np.stack(parts).astype(dtype, copy=False)
                          for parts in [hs] + [[cache[k] for cache in caches] for k in range(5, 10)])
    return hs, cs, LSTMCache(x, h0, c0, U, W, np.concatenate([i, f, g, o], axis=-1), cs, hs, np.tanh(cs))


def _gru_steps(student, x, h0, U, W, b):
    """06's gru_step_forward over the steps for the course's gru_forward: its states, and the
    sequence's cache stacked from the steps' caches (x_t, h_prev, U, W, r, z, n), in the dtype of the
    course's arrays."""
    from ..gru import GRUCache
    h, hs, caches = h0, [], []
    for x_t in x:
        h, cache = student(x_t, h, U, W, b)
        hs.append(h)
        caches.append(cache)
    dtype = np.result_type(x, h0, U, W, b)
    hs, rs, zs, ns = (np.stack(parts).astype(dtype, copy=False)
                      for parts in [hs] + [[cache[k] for cache in caches] for k in (4, 5, 6)])
    return hs, GRUCache(x, h0, U, W, rs, zs, ns, hs)


def _gru_steps_backward(student, dhs, cache):
    """06's gru_step_backward over the steps, from the last, for the course's gru_backward (which
    takes the sequence's cache of gru_forward): each step gets the gradient on its state (its own
    and the one the next step returns), the parameters' gradients are the sum of the steps', all in
    the course's dtype."""
    from ..gru import GRUStepCache
    x, h0, U, W, rs, zs, ns, hs = cache
    h_prevs = [h0, *hs[:-1]]
    dtype = np.result_type(hs, dhs)
    dh, dxs, grads = np.zeros(hs.shape[1:], dtype), [], []
    for t in reversed(range(len(x))):
        dx_t, dh, *step_grads = student(dhs[t] + dh, GRUStepCache(x[t], h_prevs[t], U, W, rs[t], zs[t], ns[t]))
        dxs.append(dx_t)
        grads.append(step_grads)
    return tuple(grad.astype(dtype, copy=False) for grad in
                 [np.stack(dxs[::-1]), np.asarray(dh), *(np.sum(parts, axis=0) for parts in zip(*grads))])


def _named_step_cache(student, x_t, h_prev, U, W, b):
    """06's gru_step_forward, whose cache is the tuple (x_t, h_prev, U, W, r, z, n), with the course's
    named cache (the course's code reads its fields by name)."""
    from ..gru import GRUStepCache
    h_t, cache = student(x_t, h_prev, U, W, b)
    return h_t, GRUStepCache(*cache)


def _stack_cache(student, x, h0, layers, bidirectional=False):
    """08's stacked_rnn_forward (one-way layers; the list of the layers' rnn_forward caches) with the
    course's StackedRNNCache; a stack of bidirectional layers is no exercise."""
    from ..deep_rnn import StackedRNNCache
    from ..rnn import RNNCache
    if bidirectional:
        raise CourseOnly
    hs, caches = student(x, h0, layers)
    return hs, StackedRNNCache(tuple(RNNCache(*layer) for layer in caches), False)


def _stack_layers(student, dhs, cache):
    """08's stacked_rnn_backward, which takes the list of the layers' caches, for the course's
    StackedRNNCache (of one-way layers)."""
    if cache.bidirectional:
        raise CourseOnly
    return student(dhs, list(cache.layers))


def _readout_inside_the_model(student, params, hs, targets):
    """07's lm_loss_and_grads (embedding -> LSTM -> read-out) for the course's _readout_loss (the read-out's
    loss, dhs, dV, dc for given states hs (T, N, H)): the student's function runs with the four layers that
    it calls by name (the exercise's contract) replaced by pass-throughs (the embedding's output is hs, the
    LSTM's states are its inputs); the gradient that reaches its lstm_backward is dhs."""
    from ..grading import functions_replaced
    (T, N, H), reached = np.shape(hs), {}
    zeros = np.zeros((N, H), np.result_type(hs))

    def lstm_backward(dhs, cache):
        reached["dhs"] = dhs
        return np.zeros_like(hs), zeros, zeros, *(np.zeros_like(params[name]) for name in ("U", "W", "b"))

    with functions_replaced(vars(sys.modules["__main__"]), embedding_forward=lambda tokens, E: (hs, None),
                            embedding_backward=lambda dx, cache: np.zeros_like(params["E"]),
                            lstm_forward=lambda x, h0, c0, U, W, b: (x, np.zeros_like(x), None),
                            lstm_backward=lstm_backward):
        loss, grads, _ = student(params, np.zeros((T, N), int), targets, zeros, zeros)
    if "dhs" not in reached:
        raise CourseOnly
    return loss, reached["dhs"], grads["V"], grads["c"]


def _plain_total_beam(student, step_fn, state, start_id, end_id, beam_width, max_len, length_penalty=0.0):
    """09's beam_search (ranked by the plain total, without length_penalty) for the course's."""
    if length_penalty != 0.0:
        raise CourseOnly
    return student(step_fn, state, start_id, end_id, beam_width, max_len)


class _KeysGiven(NamedTuple):
    """The cache of a step that ``_keys_as_features`` ran: the student's cache, and the keys' size A."""
    cache: tuple
    A: int


def _keys_as_features(student, s, h, score="dot", params=None, mask=None, *, keys=None):
    """09's attention_forward (four scores; the additive one computes its keys h W_h^T itself) for the
    course's, to which a decoder passes the keys computed once: the keys go in as extra features of h
    (h, keys) that W_h = [0 I] picks out, so that the scores use them; the context is that of h."""
    if score not in ("dot", "general", "additive", "cosine"):
        raise CourseOnly
    if keys is None:
        return student(s, h, score, params, mask)
    He, A = h.shape[-1], keys.shape[-1]
    picks_keys = np.concatenate([np.zeros((A, He), h.dtype), np.eye(A, dtype=h.dtype)], axis=1)
    context, alpha, cache = student(s, np.concatenate([h, keys], axis=-1), score, dict(params, W_h=picks_keys), mask)
    return context[:, :He], alpha, _KeysGiven(cache, A)


def _keys_gradient_apart(student, dcontext, cache):
    """09's attention_backward for the course's: after ``_keys_as_features`` the gradient on the extra
    features is the keys' (dparams["keys"], in place of W_h's), and dh leaves out the path through them."""
    if not isinstance(cache, _KeysGiven):
        return student(dcontext, cache)
    extra = np.zeros((dcontext.shape[0], cache.A), dcontext.dtype)
    ds, dh, dparams = student(np.concatenate([dcontext, extra], axis=1), cache.cache)
    He = dcontext.shape[1]
    return ds, dh[..., :He], {"W_s": dparams["W_s"], "v": dparams["v"], "keys": dh[..., He:]}


def _projections_in_the_cache(student, x, params, mask=None, causal=False):
    """09's self_attention(x, W_q, W_k, W_v, mask, causal) -> out, attn for the course's, whose cache
    also holds the queries, keys and values W x (the exercise's statement) that its backward reads."""
    from ..attention import SelfAttentionCache
    out, attn = student(x, params["W_q"], params["W_k"], params["W_v"], mask, causal)
    q, k, v = (x @ params[name].T for name in ("W_q", "W_k", "W_v"))
    return out, attn, SelfAttentionCache(x, params, q, k, v, attn)


def _scan_from_zeros(student, a, b, h0=None, method="scan"):
    """11's parallel_scan(a, b, h0) (Hillis-Steele's scan, h0 given) for the course's linear_scan; the
    loop, Blelloch's scan and the log-space form are the course's only."""
    if method != "scan":
        raise CourseOnly
    return student(a, b, np.zeros(np.shape(b)[1:], np.result_type(a, b)) if h0 is None else h0)


def _real_scan_backward(student, dh, a, h, h0=None):
    """11's scan_backward(dh, a, h, h0) (real decays) for the course's linear_scan_backward, which also
    takes complex ones."""
    if np.iscomplexobj(a) or np.iscomplexobj(h):
        raise CourseOnly
    return student(dh, a, h, np.zeros(np.shape(h)[1:], np.result_type(dh, a, h)) if h0 is None else h0)


def _recurrent_form(student, q, k, v, method="recurrent"):
    """11's linear_attention_recurrent(q, k, v) for the course's causal_linear_attention; the quadratic
    form is the course's only."""
    if method != "recurrent":
        raise CourseOnly
    return student(q, k, v)


#: Module -> {function of SEALED: its adapter}, where the student's function (named as in
#: ``STUDENT_NAMES``) takes other arguments or returns something else than the course's version.
#: An adapter ``adapter(student, *args, **kwargs)`` gets the sealed function's arguments, calls
#: ``student`` (the student's function) and returns what the course's version returns: it only
#: reshapes arguments and results (it ships in the sealed copy: it must not compute an answer).
#: It raises ``CourseOnly`` for a call that the student's function cannot stand for (``course_only``:
#: for every call), and the experiment then says it needs the course's version.
ADAPTERS = {
    "lessons.gradient_decay": {"matrix_with_eigenvalues": _seed_as_generator,
                               "jacobian_norms": _tanh_trajectory_norms,
                               "_jacobian_log_norms": _log_norms_of_a_tanh_trajectory},
    "lessons.skip_connections": {"skip_rnn_forward": _states_with_cache},
    "lstm": {"lstm_forward": _lstm_steps, "lstm_backward": _step_caches, "cell_jacobian": _jacobian_from_paths},
    "gru": {"gru_step_forward": _named_step_cache, "gru_forward": _gru_steps, "gru_backward": _gru_steps_backward},
    "deep_rnn": {"stacked_rnn_forward": _stack_cache, "stacked_rnn_backward": _stack_layers},
    "training.seq2seq": {"beam_search": _plain_total_beam},
    "lessons.language_model": {"_readout_loss": _readout_inside_the_model},
    "attention": {"attention_scores": course_only, "attention_forward": _keys_as_features,
                  "attention_backward": _keys_gradient_apart, "self_attention_forward": _projections_in_the_cache},
    "linear_rnn": {"linear_scan": _scan_from_zeros, "linear_scan_backward": _real_scan_backward,
                   "causal_linear_attention": _recurrent_form, "mingru_forward": course_only},
}

#: Module -> {function: (notebook, exercise)}: functions that compute an exercise's answer although
#: no exercise asks for them by name (a test's expected value, a layer that runs the exercise's
#: step, the inverse of its conversion, a hint whose candidates are built from the answer's
#: parts). Sealed with their exercise; their stub never calls the student's function (a test
#: would compare the answer with itself): it raises ``ExerciseNotShipped`` for ``exercise``.
ANSWERS = {
    "lessons.forward_feedback": {"teacher_forcing_hint": ("01_sequences", "teacher_forced_logits")},
    "lessons.bptt_feedback": {"step_backward_hint": ("02_bptt", "rnn_step_backward"),
                              "bptt_hint": ("02_bptt", "rnn_backward")},
    "lessons.pytorch_feedback": {"_clipped": ("04_long_term_dependencies", "clip_grad_norm")},
    "lessons.gru_step_feedback": {"expected_torch_gru_step": ("10_pytorch", "torch_gru_step")},
    "torch_bridge": {"gru_reset_after_forward": ("10_pytorch", "torch_gru_step"),
                     "torch_gru_to_course_z_flip": ("10_pytorch", "course_gru_to_torch_z_flip")},
}

#: What a sealed module's docstring says after its first paragraph.
SEALED_NOTE = ("Sealed copy (rnn_helpers/instructor/sealing.py): the functions that an exercise asks for keep "
               "only their signature here.")

#: The name the sealed modules import ``exercise`` under, and their line that imports it.
CALL = "_sealed_exercise"
IMPORT = f"from rnn_helpers.instructor.sealing import exercise as {CALL}\n"


#: The student's functions that sealed functions ran in this kernel, in place of the course's:
#: {name: notebook}. A claim (``lessons/claims.py``) then names them.
RAN_THE_STUDENTS = {}


class ExerciseNotShipped(Exception):
    """A sealed function was called and the notebook defines no finished version of it
    (``name``, the exercise's function, of notebook ``notebook``; ``defined``: whether the notebook
    defines it at all, which a cell above the exercise's does not yet); or, with ``needs_course``,
    the caller needs the course's own version (a test's expected value), which the student's cannot be."""

    def __init__(self, name, notebook, needs_course=False, defined=True):
        super().__init__(f"{name} is your exercise in notebook {notebook}: " + (
            "this check needs the course's version, which is not shipped in this environment (the autograder, "
            "which has it, checks yours)" if needs_course else
            "the course's version is not shipped in this environment, and this part needs yours (the autograder "
            "checks it)"))
        self.name, self.notebook, self.needs_course, self.defined = name, notebook, needs_course, defined


def exercise(namespace, name, notebook, *args, **kwargs):
    """Run the student's version of the sealed function ``name`` (the function of that name, or of
    its name in ``STUDENT_NAMES``, through its adapter in ``ADAPTERS``) from ``__main__`` on its arguments.

    ``namespace`` is the globals of the sealed function's module: a copy that
    ``grading.load_reference`` executed (not the module in ``sys.modules``) never calls the
    student's function.
    """
    module = sys.modules.get(namespace.get("__name__"))
    course_module = str(namespace.get("__name__")).removeprefix("rnn_helpers.")
    adapter, sealed = ADAPTERS.get(course_module, {}).get(name), namespace.get(name)
    name = STUDENT_NAMES.get(course_module, {}).get(name, name)
    needs_course = getattr(module, "__dict__", None) is not namespace or adapter is course_only
    found = None if needs_course else _students(name, args)
    if found is not None:
        student, args = found
        if adapter is not None:
            student = functools.partial(adapter, _taking(student))
        passed = next((given for given in [(args, kwargs), _without_defaults(sealed, args, kwargs)]
                       if _accepts(student, *given)), None)
        if passed is not None:
            try:
                result = student(*passed[0], **passed[1])
            except (NotImplementedError, _NotTaken):
                pass
            except CourseOnly:
                needs_course = True
            else:
                RAN_THE_STUDENTS[name] = notebook
                return result
    _show_in_one_line()
    raise ExerciseNotShipped(name, notebook, needs_course, defined=found is not None)


class _NotTaken(Exception):
    """The student's function does not take the arguments an adapter passes on."""


def _taking(student):
    """``student``, raising ``_NotTaken`` for arguments its signature does not take."""
    def call(*args, **kwargs):
        if not _accepts(student, args, kwargs):
            raise _NotTaken
        return student(*args, **kwargs)
    return call


def _students(name, args):
    """(the student's function ``name`` from ``__main__``, the arguments it takes), or None when the
    notebook defines none. For ``Class.method`` the first argument is the course's object: the
    method is that of the student's ``Class`` made from the object's attributes (once per object)."""
    owner, _, method = name.rpartition(".")
    found = getattr(sys.modules.get("__main__"), owner or method, None)
    if not callable(found) or getattr(found, "__module__", None) != "__main__":
        return None
    if not owner:
        return found, args
    if not args or not isinstance(found, type):
        return None
    course_object, twins = args[0], vars(args[0]).setdefault("_students", {})
    if type(twins.get(owner)) is not found:
        try:
            names = inspect.signature(found).parameters
        except (TypeError, ValueError):
            return None
        settings = {p: getattr(course_object, p) for p in names if hasattr(course_object, p)}
        if not _accepts(found, (), settings):
            return None
        twins[owner] = found(**settings)
    return getattr(twins[owner], method, None), args[1:]


def _show_in_one_line():
    """In a notebook's kernel, an ExerciseNotShipped that stops a cell shows as its one line,
    without the traceback through the course's code (the cell still stops, as any error does)."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is None or ExerciseNotShipped in shell.custom_exceptions:
        return

    def one_line(shell, etype, value, tb, tb_offset=None):
        lines = [f"{etype.__name__}: {value}"]
        shell._showtraceback(etype, value, lines)
        return lines

    shell.set_custom_exc((ExerciseNotShipped,), one_line)


def _accepts(function, args, kwargs):
    """Whether ``function``'s signature takes these arguments (an exercise may ask for fewer
    options than the course's version has)."""
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return False
    return True


def _without_defaults(sealed, args, kwargs):
    """``args`` and ``kwargs`` without the options that are at their default in ``sealed``'s
    signature (the stub passes every parameter on; the student's version may not have them)."""
    try:
        parameters = list(inspect.signature(sealed).parameters.values())
    except (TypeError, ValueError):
        return args, kwargs
    args = list(args)
    while args and len(args) <= len(parameters) and args[-1] is parameters[len(args) - 1].default:
        args.pop()
    defaults = {p.name: p.default for p in parameters}
    return tuple(args), {k: v for k, v in kwargs.items() if v is not defaults.get(k, inspect.Parameter.empty)}


def _arguments(node):
    """The call that passes a function's parameters on, as source: ``a, b, *args, k=k, **kw``."""
    a = node.args
    parts = [p.arg for p in a.posonlyargs + a.args]
    parts += [f"*{a.vararg.arg}"] if a.vararg else []
    parts += [f"{p.arg}={p.arg}" for p in a.kwonlyargs]
    parts += [f"**{a.kwarg.arg}"] if a.kwarg else []
    return ", ".join(parts)


def _functions(tree):
    """{"name" or "Class.name": node} of the module's functions and methods."""
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"{node.name}.{member.name}"] = member
    return found


def _stub(node, name, notebook, lines, student_name=None):
    """The new body of ``node``: its docstring's first line (without one: that it is the student's
    exercise ``student_name``, default ``name``) and the call of ``exercise`` with its name. With
    ``notebook`` a pair (notebook, exercise) (``ANSWERS``), the call names the exercise and passes an
    empty namespace, so that it never calls the student's function."""
    indent = re.match(r"\s*", lines[node.body[0].lineno - 1]).group()
    if isinstance(notebook, tuple):
        notebook, exercise_name = notebook
        called, namespace, arguments = exercise_name, "{}", ""
    else:
        exercise_name, called, namespace, arguments = student_name or name, name, "globals()", _arguments(node)
    doc = (ast.get_docstring(node) or f"{exercise_name}: your exercise in notebook {notebook}.").splitlines()[0]
    plain = '"' not in doc and "\\" not in doc
    call = ", ".join(filter(None, [namespace, repr(called), repr(notebook), arguments]))
    return [indent + (f'"""{doc}"""' if plain else repr(doc)) + "\n", f"{indent}return {CALL}({call})\n"]


def seal_source(source, sealed, module_name):
    """``source`` with the functions in ``sealed`` ({name: notebook, or (notebook, exercise) for an
    entry of ``ANSWERS``}) reduced to stubs."""
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    functions = _functions(tree)
    missing = sorted(set(sealed) - set(functions))
    if missing:
        raise ValueError(f"seal_source: rnn_helpers.{module_name} defines no {', '.join(missing)}")
    # Bottom up, so that the line numbers of the functions still to replace stay right.
    for name in sorted(sealed, key=lambda n: functions[n].lineno, reverse=True):
        node = functions[name]
        lines[node.body[0].lineno - 1:node.end_lineno] = _stub(node, name, sealed[name], lines,
                                                               STUDENT_NAMES.get(module_name, {}).get(name))
    if IMPORT not in source:
        first = next(node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)))
        lines.insert(first.lineno - 1, IMPORT)
    # The module's docstring keeps its first paragraph: the rest can write an answer out.
    doc = ast.get_docstring(tree, clean=False)
    if doc is not None:
        summary = doc.split("\n\n")[0].strip()
        text = f"{summary}\n\n{SEALED_NOTE}\n"
        lines[tree.body[0].lineno - 1:tree.body[0].end_lineno] = \
            [f'"""{text}"""\n' if '"' not in text and "\\" not in text else f"{text!r}\n"]
    return "".join(lines)


def _private_helpers_only_sealed_use(package, sealed_modules):
    """{module: {private helper: notebook}} that no unsealed code of the package names any more: its
    own module names it only in its def, and no other module imports it or reads it as an attribute
    (a helper of the same name in another module is another function)."""
    trees = {path: ast.parse(path.read_text()) for path in package.rglob("*.py")}
    imports = {path: {n.attr if isinstance(n, ast.Attribute) else n.name for n in ast.walk(tree)
                      if isinstance(n, (ast.Attribute, ast.alias))}     # from .module import name, module.name
               for path, tree in trees.items()}
    found = {}
    for module, sealed in sealed_modules.items():
        path = package.joinpath(*module.split(".")).with_suffix(".py")
        own = ast.unparse(trees[path])
        for name, node in _functions(trees[path]).items():
            if not name.startswith("_") or name in sealed:
                continue
            elsewhere = any(name in names for other, names in imports.items() if other != path)
            if not elsewhere and len(re.findall(rf"\b{re.escape(name)}\b", own)) == 1:   # its own def
                found.setdefault(module, {})[name] = next(iter(sealed.values()))
    return found


def sealed_exercises(open_through=None):
    """SEALED and ANSWERS without the exercises of notebooks 01..``open_through`` (an int; None:
    all sealed)."""
    if open_through is not None and not isinstance(open_through, int):
        raise TypeError(f"open_through should be a notebook number (int) or None, got {open_through!r}")
    table = {module: SEALED.get(module, {}) | ANSWERS.get(module, {}) for module in SEALED | ANSWERS}
    return {module: kept for module, names in table.items()
            if (kept := {name: notebook for name, notebook in names.items()
                         if open_through is None or int(_notebook(notebook)[:2]) > open_through})}


def _notebook(entry):
    """The notebook of an entry of SEALED (a notebook) or of ANSWERS (notebook, exercise)."""
    return entry[0] if isinstance(entry, tuple) else entry


def write_sealed_copy(destination, course=COURSE, open_through=None):
    """Write the sealed package into ``destination`` (a new or empty folder), the exercises of
    notebooks 01..``open_through`` left whole; return the dotted names of the functions it sealed."""
    destination = pathlib.Path(destination)
    if destination.exists() and any(destination.iterdir()):
        raise ValueError(f"write_sealed_copy: destination should be a new or empty folder, got {destination}")
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(pathlib.Path(course, name), destination / name)
    package = destination / "rnn_helpers"
    shutil.copytree(pathlib.Path(course, "rnn_helpers"), package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    todo, done = sealed_exercises(open_through), []
    while todo:   # sealing a function can leave a private helper that only it used
        for module, sealed in todo.items():
            path = package.joinpath(*module.split(".")).with_suffix(".py")
            path.write_text(seal_source(path.read_text(), sealed, module))
            done += [f"rnn_helpers.{module}.{name}" for name in sealed]
        todo = _private_helpers_only_sealed_use(package, todo)
    return sorted(done)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("destination", help="a new or empty folder")
    parser.add_argument("--open-through", type=int, metavar="NN",
                        help="keep whole the references of notebooks 01..NN (chapters already due); "
                             "default: every exercise sealed")
    args = parser.parse_args(argv)
    sealed = write_sealed_copy(args.destination, open_through=args.open_through)
    opened = "" if args.open_through is None else f", notebooks up to {args.open_through:02d} open"
    print(f"sealed copy of the course package in {args.destination}: {len(sealed)} functions sealed{opened}")


if __name__ == "__main__":
    main()
