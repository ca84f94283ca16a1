"""Check notebook 10's Exercises 1, 2, 3, 5 and 6 and say what is wrong with a result.

Each ``check_*`` takes the student's function (or class) and raises ``AssertionError`` with a
message that says what is wrong with the observed result or behaviour: a bias left out, a
gradient that accumulated across steps, an update larger than the clipping allows. The
messages never say how to compute the answer, and the checks live here rather than in the
test cells so that the student version of the notebook shows no answer, right or wrong
(``gru_step_feedback`` does the same for Exercise 4). Exercises 5 and 6 need PyTorch, which
they import when called.
"""
import numpy as np

from rnn_helpers import grading

TORCH_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


# --- Exercise 1: torch_to_course ---------------------------------------------------------

def trained_state(seed, G, D, H, dtype):
    """PyTorch's four arrays of a layer with two nonzero biases, as a trained one has."""
    rng = np.random.default_rng(seed)
    shapes = [(G * H, D), (G * H, H), (G * H,), (G * H,)]
    return {name: rng.normal(size=shape).astype(dtype) for name, shape in zip(TORCH_NAMES, shapes)}


def _bias_hint(b, state):
    """What is wrong with b, if it is one of the known mistakes."""
    b_ih, b_hh = state["bias_ih_l0"], state["bias_hh_l0"]
    for wrong, why in ((b_ih, "your b is bias_ih_l0 alone: the constant term that bias_hh_l0 adds to PyTorch's "
                              "pre-activations is missing from the course's layer"),
                       (b_hh, "your b is bias_hh_l0 alone: the constant term that bias_ih_l0 adds to PyTorch's "
                              "pre-activations is missing from the course's layer"),
                       ((b_ih + b_hh) / 2, "your b is the mean of the two biases: each pre-activation of the "
                                           "course's layer then differs from PyTorch's by a constant"),
                       (b_ih - b_hh, "your b has the sign of bias_hh_l0's term wrong")):
        if np.shape(b) == np.shape(wrong) and np.allclose(b, wrong, rtol=1e-5):
            return why
    return "the course's layer with your U, W, b computes other pre-activations than PyTorch's for the same x and h"


def check_torch_to_course(torch_to_course, seed, G, D, H, dtype="float64"):
    """torch_to_course on one layer: types, shapes, dtype, the same hidden states, independence."""
    bridge = grading.load_reference("torch_bridge")
    state = trained_state(seed, G, D, H, dtype)
    before = {name: array.copy() for name, array in state.items()}
    result = grading.call_student(torch_to_course, state)
    if not (isinstance(result, tuple) and len(result) == 3):
        raise AssertionError(f"torch_to_course should return a tuple (U, W, b), but returned {type(result).__name__}")
    for name in TORCH_NAMES:
        grading.expect_unchanged(f"state[{name!r}]", before[name], state[name])
    U, W, b = result
    for name, got, torch_name in (("U", U, "weight_ih_l0"), ("W", W, "weight_hh_l0")):
        if np.shape(got) == state[torch_name].T.shape != state[torch_name].shape:
            raise AssertionError(f"{name} has shape {np.shape(got)}, the transpose of {torch_name}: PyTorch's "
                                 "matrices already have the course's orientation, one row per unit")
        grading.expect_shape(f"{name} (G={G}, D={D}, H={H})", got, state[torch_name].shape)
    grading.expect_shape(f"b (G={G}, H={H})", b, (G * H,))
    for name, got in zip("UWb", result):
        grading.expect_equal(f"the dtype of {name}", str(got.dtype), np.dtype(dtype).name,
                             hint="keep the dtype of PyTorch's arrays")
    # The same layer: hidden states of the course's forward with (U, W, b) and of PyTorch's layer.
    rng = np.random.default_rng(seed + 100)
    T, N = 5, 3
    x, h0, c0 = (rng.normal(size=shape).astype(dtype) for shape in [(T, N, D), (N, H), (N, H)])
    expected = bridge.torch_layer_forward(x, h0, state, c0=c0 if G == 4 else None)
    if G == 4:
        got = grading.load_reference("lstm").lstm_forward(x, h0, c0, U, W, b)[0]
    else:
        got = grading.load_reference("rnn").rnn_forward(x, h0, U, W, b)[0]
    tolerance = 1e-5 if np.dtype(dtype) == np.float32 else 1e-9
    grading.expect_close(f"the course's hidden states with your U, W, b (G={G}, {np.dtype(dtype).name})", got,
                         expected, rtol=tolerance, atol=tolerance, hint=_bias_hint(b, state))
    # Training PyTorch's layer further (in place) must not move the course's arrays.
    saved = [array.copy() for array in result]
    for name in TORCH_NAMES:
        state[name] += 1.0
    for name, kept, now in zip("UWb", saved, result):
        grading.expect_close(f"{name} after PyTorch's arrays changed in place", now, kept,
                             hint=f"{name} changed with them: it shares memory with one of state's arrays, so "
                                  "training PyTorch's layer further would change the course's layer too")


# --- Exercise 2: sequence_summary ------------------------------------------------------------

def check_sequence_summary(sequence_summary, seed, T, N, H, batch_first):
    """sequence_summary on a bidirectional RNN's output, against each direction's own final state."""
    rnn_ref, bi_ref = grading.load_reference("rnn"), grading.load_reference("bidirectional")
    rng = np.random.default_rng(seed)
    D = 2
    x, h0 = rng.normal(size=(T, N, D)), rng.normal(size=(2, N, H))
    fwd = rng.normal(size=(H, D)), rng.normal(size=(H, H)), rng.normal(size=H)
    rev = rng.normal(size=(H, D)), rng.normal(size=(H, H)), rng.normal(size=H)
    out, _ = bi_ref.birnn_forward(x, h0, *fwd, *rev)                    # (T, N, 2H)
    forward_final = rnn_ref.rnn_forward(x, h0[0], *fwd)[0][-1]          # after reading x_0 .. x_{T-1}
    backward_final = rnn_ref.rnn_forward(x[::-1], h0[1], *rev)[0][-1]   # after reading x_{T-1} .. x_0
    given = out.transpose(1, 0, 2).copy() if batch_first else out.copy()
    layout = f"batch_first={batch_first}, T={T}, N={N}, H={H}"
    got = grading.call_student(sequence_summary, given, batch_first)
    if batch_first and np.shape(got) in ((T, 2 * H), (T, N, 2 * H)) and T != N:
        raise AssertionError(f"the summaries have shape {np.shape(got)}, expected {(N, 2 * H)} ({layout}): with "
                             "batch_first=True, out is (N, T, 2H), the sequences along the first axis")
    grading.expect_shape(f"the summaries ({layout})", got, (N, 2 * H),
                         hint="one summary of 2H numbers per sequence: the forward part, then the backward part")
    got = np.asarray(got)
    grading.expect_close(f"the forward half of the summaries ({layout})", got[:, :H], forward_final,
                         hint="it is not the forward direction's state after it has read the whole sequence")
    hint = "it is not the backward direction's state after it has read the whole sequence"
    if T > 1 and np.allclose(got[:, H:], out[-1, :, H:]):
        hint = ("it is the backward direction's state at the last position, where it has read only one step "
                "(it reads the sequence from the end)")
    grading.expect_close(f"the backward half of the summaries ({layout})", got[:, H:], backward_final, hint=hint)


# --- Exercise 3: course_gru_to_torch_z_flip ------------------------------------------------

def _z_flip_hint(key, got, course, H):
    """What is wrong with one converted array (got) of the course's array (course)."""
    if key == "bias_hh_l0":
        return "bias_hh_l0 should hold zeros: the course has no bias inside the reset product (b_hn = 0)"
    got = np.asarray(got)
    if got.shape != course.shape:
        return f"{key} should have the shape of the course's array, {course.shape}"
    blocks = {"r": slice(0, H), "z": slice(H, 2 * H), "n": slice(2 * H, 3 * H)}
    if np.allclose(got[blocks["z"]], course[blocks["z"]]):
        return (f"the z rows of {key} are the course's: then PyTorch's z' equals the course's z, "
                "and it must be 1 - z")
    changed = [k for k in ("r", "n") if np.allclose(got[blocks[k]], -course[blocks[k]])]
    if changed:
        return (f"the {' and '.join(changed)} rows of {key} changed sign: only the update gate changes "
                "meaning between the two conventions (blocks r, z, n: z is rows H:2*H)")
    return f"with the z rows of {key}, PyTorch's z' is not 1 - z for every x and h"


def _call_z_flip(course_gru_to_torch_z_flip, U, W, b):
    """The student's conversion of (U, W, b), which must leave them unchanged and return a dict."""
    inputs = [U.copy(), W.copy(), b.copy()]
    with grading.reference_disabled():
        state = course_gru_to_torch_z_flip(U, W, b)
    for name, before, after in zip("UWb", inputs, (U, W, b)):
        grading.expect_unchanged(name, before, after)
    if not isinstance(state, dict):
        raise AssertionError(f"course_gru_to_torch_z_flip should return a dict, got {type(state).__name__}")
    missing = [key for key in TORCH_NAMES if key not in state]
    if missing:
        raise AssertionError(f"the dict has no {', '.join(missing)}: it should hold PyTorch's four arrays")
    return state


def check_z_flip_gates(course_gru_to_torch_z_flip, seed, H, D, N):
    """The defining properties: PyTorch's z' from the converted weights is the course's 1 - z for
    random x and h, and the r and n rows are the course's."""
    rng = np.random.default_rng(seed)
    U, W, b = rng.normal(size=(3 * H, D)), rng.normal(size=(3 * H, H)), rng.normal(size=3 * H)
    state = _call_z_flip(course_gru_to_torch_z_flip, U, W, b)
    course = {"weight_ih_l0": U, "weight_hh_l0": W, "bias_ih_l0": b}
    x, h = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    z_rows = slice(H, 2 * H)
    z_course = 1 / (1 + np.exp(-(x @ U[z_rows].T + h @ W[z_rows].T + b[z_rows])))
    a_torch = (x @ state["weight_ih_l0"][z_rows].T + state["bias_ih_l0"][z_rows]
               + h @ state["weight_hh_l0"][z_rows].T + state["bias_hh_l0"][z_rows])
    reference = grading.load_reference("torch_bridge").course_gru_to_torch_z_flip(U, W, b)
    wrong = [key for key in course if np.shape(state[key]) != reference[key].shape
             or not np.allclose(state[key][z_rows], reference[key][z_rows])]
    grading.expect_close("PyTorch's update gate z' from your weights", 1 / (1 + np.exp(-a_torch)), 1 - z_course,
                         hint=_z_flip_hint(wrong[0], state[wrong[0]], course[wrong[0]], H) if wrong
                         else "z' must be 1 - z for every x and h")
    rows = np.r_[0:H, 2 * H:3 * H]
    for key, array in course.items():
        grading.expect_close(f"the r and n rows of {key}", state[key][rows], array[rows],
                             hint=_z_flip_hint(key, state[key], array, H))


def check_z_flip_arrays(course_gru_to_torch_z_flip, seed, H, D, dtype):
    """Every converted array, its values and its dtype."""
    rng = np.random.default_rng(seed)
    U, W, b = (rng.normal(size=shape).astype(dtype) for shape in [(3 * H, D), (3 * H, H), (3 * H,)])
    state = _call_z_flip(course_gru_to_torch_z_flip, U, W, b)
    reference = grading.load_reference("torch_bridge").course_gru_to_torch_z_flip(U, W, b)
    for key, course in [("weight_ih_l0", U), ("weight_hh_l0", W), ("bias_ih_l0", b), ("bias_hh_l0", None)]:
        grading.expect_close(f"{key} (H={H}, D={D})", state[key], reference[key],
                             hint=_z_flip_hint(key, state[key], course, H))
        grading.expect_equal(f"the dtype of {key}", str(state[key].dtype), np.dtype(dtype).name,
                             hint="keep the dtype of the inputs")


# --- Exercise 5: AddingLSTM ------------------------------------------------------------------

def check_adding_lstm(AddingLSTM, T, N, D, H, seed):
    """Run AddingLSTM(D, H) with known weights and compare with the course's numpy LSTM;
    returns (model, x) for further checks."""
    import torch

    from rnn_helpers import torch_bridge
    lstm_ref = grading.load_reference("lstm")
    with grading.reference_disabled():
        model = AddingLSTM(D, H)
    if not isinstance(model, torch.nn.Module):
        raise AssertionError(f"AddingLSTM(D, H) should be an nn.Module, but is {type(model).__name__}")
    lstms = [m for m in model.modules() if isinstance(m, torch.nn.LSTM)]
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    unseen = "a layer that the model does not register (section 6) is invisible to model.modules()"
    grading.expect_equal("the number of nn.LSTM layers that model.modules() finds in AddingLSTM", len(lstms), 1,
                         hint=unseen)
    grading.expect_equal("the number of nn.Linear layers that model.modules() finds in AddingLSTM", len(linears), 1,
                         hint=unseen)
    grading.expect_equal(f"the number of parameters of AddingLSTM({D}, {H})",
                         sum(p.numel() for p in model.parameters()), 4 * (D * H + H * H + 2 * H) + H + 1,
                         hint="the count of the statement, 4(DH + H^2 + 2H) + H + 1, is that of the two layers "
                              "with PyTorch's default biases; a layer of another size, a missing bias or an "
                              "extra parameter changes it")
    rng = np.random.default_rng(seed)
    U, W = rng.normal(scale=0.7, size=(4 * H, D)), rng.normal(scale=0.7, size=(4 * H, H))
    b, V, c = rng.normal(scale=0.5, size=4 * H), rng.normal(size=(1, H)), rng.normal(size=1)
    torch_bridge.load_state(lstms[0], torch_bridge.course_to_torch("lstm", U, W, b))
    torch_bridge.load_state(linears[0], {"weight": V, "bias": c})
    x = rng.normal(size=(T, N, D))
    zeros = np.zeros((N, H))
    hs, _, _ = lstm_ref.lstm_forward(x, zeros, zeros, U, W, b)
    x_t = torch.tensor(x, dtype=torch.float32)
    with grading.reference_disabled():
        out = model(x_t)
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"forward should return a torch tensor, but returned {type(out).__name__}")
    got = out.detach().numpy().astype(np.float64)
    if T != N and got.shape == (T, 1) and np.allclose(got, hs[:, -1] @ V.T + c, atol=1e-4):
        raise AssertionError(f"model(x) has shape {got.shape}, expected {(N, 1)}: it is the read-out of the LAST "
                             "sequence at every time step, where the task wants one prediction per sequence")
    if lstms[0].batch_first and T != N and got.shape == (T, 1):
        raise AssertionError(f"model(x) has shape {got.shape}, expected {(N, 1)}: your nn.LSTM was created "
                             f"with batch_first=True, so it reads x of shape {(T, N, D)} as {T} sequences "
                             f"of {N} steps, but x is time-major (T, N, D)")
    if got.shape == (T, N, 1):
        raise AssertionError(f"model(x) has shape {got.shape}, expected {(N, 1)}: it makes a prediction at "
                             "every step, where the task wants one per sequence")
    grading.expect_shape("model(x)", got, (N, 1), hint="one prediction per sequence")
    hs_bf, _, _ = lstm_ref.lstm_forward(x[-1][:, None, :], zeros[:1], zeros[:1], U, W, b)
    if T > 1 and N > 1 and np.allclose(got, hs_bf[:, 0] @ V.T + c, atol=1e-4):
        raise AssertionError("model(x) reads x as (batch, time, features), but x is time-major (T, N, D)")
    if T > 1 and np.allclose(got, hs[0] @ V.T + c, atol=1e-4):
        raise AssertionError("model(x) is the read-out of each sequence's state after its FIRST step, "
                             "not after its last")
    grading.expect_close(f"model(x) for T={T}, N={N}, D={D}, H={H}", got, hs[-1] @ V.T + c, rtol=1e-4, atol=1e-5,
                         hint="model(x) is not the linear read-out of each sequence's hidden state after its "
                              "last step (x is time-major)")
    return model, x_t


def check_gradient_reaches_every_parameter(model, x_t):
    """model(x_t).sum().backward() leaves a nonzero gradient on every parameter."""
    import torch

    model.zero_grad()
    with grading.reference_disabled():
        model(x_t).sum().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    if missing:
        raise AssertionError(f"no gradient reaches {missing}: somewhere in forward the computation leaves "
                             "autograd's graph (.detach(), numpy or torch.no_grad())")


# --- Exercise 6: train_step ------------------------------------------------------------------

def _loss_and_gradient(w, b, x, y):
    """numpy: the mean squared error of x @ w.T + b and its gradients (dw, db)."""
    r = x @ w.T + b - y
    return float(np.mean(r ** 2)), 2 * r.T @ x / r.size, 2 * r.sum(axis=0) / r.size


def _norm(*arrays):
    return float(np.sqrt(sum(np.sum(np.asarray(a) ** 2) for a in arrays)))


def _clipped(gradients, max_norm):
    """The gradients scaled together to a global norm of at most max_norm (as clip_grad_norm_)."""
    scale = min(1.0, max_norm / (_norm(*gradients) + 1e-6))
    return [scale * g for g in gradients]


def _close(a, b):
    return all(np.allclose(u, v, rtol=1e-6, atol=1e-9) for u, v in zip(a, b))


def check_train_step(train_step, N, D, K, lr, max_norms, seed, stale=False):
    """Run train_step with SGD on a linear model, one step per max_norm; with stale, .grad holds
    leftovers before the first step. Each step's loss, norm and update are compared with numpy's,
    and the applied gradient (the parameters' change divided by lr) tells what went wrong."""
    import torch

    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(K, D)), rng.normal(size=K)
    x, y = rng.normal(size=(N, D)), rng.normal(size=(N, K))
    model = torch.nn.Linear(D, K, dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(torch.tensor(w))
        model.bias.copy_(torch.tensor(b))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    calls = []

    def loss_fn(m, batch):
        calls.append(1)
        return ((m(batch[0]) - batch[1]) ** 2).mean()

    batch = (torch.tensor(x), torch.tensor(y))
    left = [np.zeros_like(w), np.zeros_like(b)]         # what .grad holds if it is never cleared
    for k, max_norm in enumerate(max_norms):
        step = f"step {k + 1}"
        w0, b0 = model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()
        if stale and k == 0:
            for p in model.parameters():
                p.grad = torch.full_like(p, 0.5)      # what an earlier computation left behind
            left = [np.full_like(w, 0.5), np.full_like(b, 0.5)]
        with grading.reference_disabled():
            result = train_step(model, optimizer, loss_fn, batch, max_norm)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AssertionError("train_step should return a tuple (loss, norm)")
        loss, norm = result
        for name, value in (("the returned loss", loss), ("the returned norm", norm)):
            if type(value) is not float:
                raise AssertionError(f"{name} should be a Python float, but is {type(value).__name__}")
        grading.expect_equal("the number of loss_fn calls", len(calls), k + 1,
                             hint="each step computes the loss of its batch once")
        w1, b1 = model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()
        applied = [(w0 - w1) / lr, (b0 - b1) / lr]      # the gradient SGD applied in this step
        step_loss, dw, db = _loss_and_gradient(w0, b0, x, y)
        step_norm, expected = _norm(dw, db), _clipped([dw, db], max_norm)
        summed = [dw + left[0], db + left[1]]
        earlier = ("the gradient that was already in .grad when train_step was called" if stale and k == 0
                   else "the previous step's gradient")
        if np.array_equal(w1, w0) and np.array_equal(b1, b0):
            if norm == 0.0:
                raise AssertionError(f"{step}: the parameters did not change and the returned gradient norm is 0: "
                                     "when the norm was measured and the optimiser ran, .grad held no gradient")
            raise AssertionError(f"{step}: the parameters did not change, although this batch's gradient has norm "
                                 f"{step_norm:.4g}: no update was applied")
        if (abs(norm - step_norm) > 1e-6 * step_norm and abs(norm - _norm(*summed)) < 1e-6 * norm) or (
                not _close(applied, expected) and _close(applied, _clipped(summed, max_norm))):
            raise AssertionError(f"{step}: the gradient measured and applied is this batch's gradient plus "
                                 f"{earlier} (norm {_norm(*summed):.4g} instead of {step_norm:.4g}): "
                                 "gradients accumulated across steps, where the update must use this "
                                 "batch's gradient only")
        if step_norm > max_norm and abs(norm - max_norm) < 1e-6 * max_norm:
            raise AssertionError(f"{step}: the returned norm is max_norm, {max_norm:g}, the norm after clipping; "
                                 f"this batch's gradient had norm {step_norm:.4g} before")
        loss_after = _loss_and_gradient(w1, b1, x, y)[0]
        grading.expect_scalar(f"the loss of {step}", loss, step_loss,
                              hint="it is the batch's loss after the update" if abs(loss - loss_after) < 1e-9
                              else "it is not the batch's loss at the parameters the step started from")
        grading.expect_scalar(f"the gradient norm of {step}", norm, step_norm, rtol=1e-5,
                              hint="no gradient was in .grad when the norm was measured" if norm == 0.0
                              else "it is not the norm of this batch's gradient, all parameters together, "
                                   "before clipping")
        applied_norm = _norm(*applied)
        if step_norm > max_norm and _close(applied, [dw, db]):
            raise AssertionError(f"{step}: the update was not clipped: the gradient the optimiser applied (the "
                                 f"parameters' change divided by the learning rate) has norm {applied_norm:.4g}, "
                                 f"more than max_norm = {max_norm:g}")
        if _close(applied, _clipped([dw], max_norm) + _clipped([db], max_norm)) and not _close(applied, expected):
            raise AssertionError(f"{step}: the gradient the optimiser applied has norm {applied_norm:.4g} over all "
                                 f"parameters together, more than max_norm = {max_norm:g}: the weight's and the "
                                 "bias's gradients were clipped each on its own")
        for name, got, want in (("weights", w1, w0 - lr * expected[0]), ("bias", b1, b0 - lr * expected[1])):
            grading.expect_close(f"the {name} after {step}", got, want, rtol=1e-6,
                                 hint=f"the gradient the optimiser applied (the parameters' change divided by the "
                                      f"learning rate) has norm {applied_norm:.4g}, where this batch's gradient "
                                      f"clipped to max_norm = {max_norm:g} has norm {_norm(*expected):.4g}")
        left = applied
