"""Tests of rnn_helpers.linear_rnn: every method against plain loops written here, gradients
checked numerically (real and complex), the closed form's limits, input checks, no mutation."""
import numpy as np
import pytest

from conftest import assert_gradients_match
from rnn_helpers import linear_rnn
from rnn_helpers.lessons import scan_timings
from rnn_helpers.gradcheck import numerical_gradient, rel_error


def recurrence(seed=0, T=9, N=2, H=3, complex_=False, dtype=np.float64, low=0.3):
    """Decays a with |a| in [low, 1), inputs b and an initial state h0."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(low, 1.0, (T, N, H)) * rng.choice([-1.0, 1.0], (T, N, H))
    b, h0 = rng.normal(size=(T, N, H)), rng.normal(size=(N, H))
    if complex_:
        a = a * np.exp(1j * rng.uniform(0, 2 * np.pi, (T, N, H)))
        b, h0 = b + 1j * rng.normal(size=b.shape), h0 + 1j * rng.normal(size=h0.shape)
    return a.astype(dtype if not complex_ else complex), b.astype(a.dtype), h0.astype(a.dtype)


def plain_recurrence(a, b, h0):
    """h_t = a_t h_{t-1} + b_t, one number at a time."""
    T, N, H = a.shape
    h = np.zeros(a.shape, dtype=np.result_type(a, b, h0))
    for n in range(N):
        for k in range(H):
            state = h0[n, k]
            for t in range(T):
                state = a[t, n, k] * state + b[t, n, k]
                h[t, n, k] = state
    return h


def plain_recurrence_backward(dh, a, h, h0):
    """The chain rule one step at a time, backwards (conj for complex, PyTorch's convention)."""
    T = a.shape[0]
    da, db = np.zeros_like(dh), np.zeros_like(dh)
    g = np.zeros_like(dh[0])
    for t in reversed(range(T)):
        g = dh[t] + (np.conj(a[t + 1]) * g if t + 1 < T else 0)
        db[t] = g
        da[t] = g * np.conj(h[t - 1] if t > 0 else h0)
    return da, db, np.conj(a[0]) * g


# ------------------------------------------------------------------ the four methods

@pytest.mark.parametrize("method", linear_rnn.METHODS)
@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_every_method_matches_the_plain_loop(method, complex_):
    for seed, (T, N, H) in enumerate([(1, 1, 1), (2, 3, 1), (9, 2, 3), (64, 2, 2), (100, 1, 3)]):
        a, b, h0 = recurrence(seed, T, N, H, complex_)
        expected = plain_recurrence(a, b, h0)
        got = linear_rnn.linear_scan(a, b, h0, method=method)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("method", linear_rnn.METHODS)
def test_missing_h0_means_zeros_and_types_mix(method):
    a, b, h0 = recurrence(1, T=7)
    np.testing.assert_allclose(linear_rnn.linear_scan(a, b, method=method),
                               plain_recurrence(a, b, np.zeros_like(h0)), rtol=1e-10, atol=1e-12)
    b_complex = b + 1j * b[::-1]                   # real decays, complex inputs: complex states
    got = linear_rnn.linear_scan(a, b_complex, h0, method=method)
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, plain_recurrence(a, b_complex, h0), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", linear_rnn.METHODS)
def test_float32_stays_float32(method):
    a, b, h0 = recurrence(2, T=20)
    got = linear_rnn.linear_scan(a.astype(np.float32), b.astype(np.float32), h0.astype(np.float32), method)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, plain_recurrence(a, b, h0), rtol=1e-4, atol=1e-5)


def test_scan_works_for_lengths_that_are_not_powers_of_two():
    for T in (3, 5, 31, 33, 100):
        a, b, h0 = recurrence(T, T=T, N=1, H=2)
        np.testing.assert_allclose(linear_rnn.linear_scan(a, b, h0, "scan"), plain_recurrence(a, b, h0),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_blelloch_matches_the_loop_for_every_length_up_to_33_and_a_long_one(complex_):
    for T in [*range(1, 34), 5000]:
        a, b, h0 = recurrence(T, T=T, N=2, H=2, complex_=complex_)
        np.testing.assert_allclose(linear_rnn.linear_scan(a, b, h0, "blelloch"),
                                   linear_rnn.linear_scan(a, b, h0, "loop"), rtol=1e-10, atol=1e-10)


def test_the_scans_do_the_work_of_their_closed_forms():
    for T in range(1, 130):
        levels = (T - 1).bit_length()                                   # ceil(log2 T)
        assert scan_timings.combines_done("scan", T) == T * levels - 2 ** levels + 1
        assert scan_timings.combines_done("blelloch", T) == 2 * T - bin(T).count("1") - (T.bit_length() - 1) - 1 < 2 * T


def test_an_empty_sequence_gives_no_states():
    a = np.zeros((0, 2, 3))
    for method in linear_rnn.METHODS:
        assert linear_rnn.linear_scan(a, a, np.ones((2, 3)), method).shape == (0, 2, 3)


def test_combine_is_associative_and_not_commutative():
    rng = np.random.default_rng(3)
    steps = [(rng.normal(size=4), rng.normal(size=4)) for _ in range(3)]
    left = linear_rnn.combine(linear_rnn.combine(steps[0], steps[1]), steps[2])
    right = linear_rnn.combine(steps[0], linear_rnn.combine(steps[1], steps[2]))
    np.testing.assert_allclose(left, right, rtol=1e-12)
    swapped = linear_rnn.combine(steps[1], steps[0])
    assert not np.allclose(linear_rnn.combine(steps[0], steps[1])[1], swapped[1])
    h = rng.normal(size=4)                        # composing = applying one step after the other
    a, b = linear_rnn.combine(steps[0], steps[1])
    np.testing.assert_allclose(a * h + b, steps[1][0] * (steps[0][0] * h + steps[0][1]) + steps[1][1])


# ------------------------------------------------------------- the closed form's limits

def test_log_space_form_survives_where_the_plain_closed_form_breaks():
    T = 20000
    a = np.full((T, 1, 2), 0.9)
    b = np.random.default_rng(4).normal(size=(T, 1, 2))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        product = np.cumprod(a, axis=0)
        plain = product * np.cumsum(b / product, axis=0)
    assert not np.all(np.isfinite(plain))                       # the literal formula breaks ...
    got = linear_rnn.linear_scan(a, b, method="cumulative")     # ... the log-space one does not
    np.testing.assert_allclose(got, linear_rnn.linear_scan(a, b, method="loop"), rtol=0, atol=1e-10)


def test_cumulative_names_the_first_zero_decay():
    a, b, h0 = recurrence(5, T=6)
    a[3, 1, 2] = 0.0
    a[4, 0, 0] = 0.0
    with pytest.raises(ValueError, match=r"a\[3, 1, 2\] is 0.*method=\"scan\""):
        linear_rnn.linear_scan(a, b, h0, method="cumulative")
    np.testing.assert_allclose(linear_rnn.linear_scan(a, b, h0, method="scan"), plain_recurrence(a, b, h0),
                               rtol=1e-12, atol=1e-12)


def test_cumulative_with_growing_states_matches_until_it_overflows_like_the_loop():
    a = np.full((50, 1, 1), 1.5)
    b = np.ones((50, 1, 1))
    np.testing.assert_allclose(linear_rnn.linear_scan(a, b, method="cumulative"),
                               linear_rnn.linear_scan(a, b, method="loop"), rtol=1e-12)


# ------------------------------------------------------------------ backward

def test_backward_matches_the_plain_chain_rule_real_and_complex():
    for complex_ in (False, True):
        a, b, h0 = recurrence(6, T=8, complex_=complex_)
        h = plain_recurrence(a, b, h0)
        dh = np.random.default_rng(7).normal(size=h.shape) * (1 + 1j if complex_ else 1)
        for got, want in zip(linear_rnn.linear_scan_backward(dh, a, h, h0), plain_recurrence_backward(dh, a, h, h0)):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_backward_gradient_check_real():
    a, b, h0 = recurrence(8, T=7, N=2, H=3)
    h = linear_rnn.linear_scan(a, b, h0)
    dh = np.random.default_rng(9).normal(size=h.shape)
    grads = linear_rnn.linear_scan_backward(dh, a, h, h0)

    def forward(a, b, h0):
        return (linear_rnn.linear_scan(a, b, h0),)
    assert_gradients_match(forward, [a, b, h0], grads, dh)


def test_backward_gradient_check_complex():
    """d/dRe and d/dIm of L = Re sum(conj(dh) h) against the real and imaginary parts of the gradients."""
    a, b, h0 = recurrence(10, T=6, N=1, H=2, complex_=True)
    h = linear_rnn.linear_scan(a, b, h0)
    rng = np.random.default_rng(11)
    dh = rng.normal(size=h.shape) + 1j * rng.normal(size=h.shape)
    grads = linear_rnn.linear_scan_backward(dh, a, h, h0)
    inputs = [a, b, h0]
    for i, grad in enumerate(grads):
        for part, unit in (("real", 1.0), ("imag", 1j)):
            def loss(values, i=i, unit=unit):
                args = list(inputs)
                args[i] = inputs[i] + unit * (values - getattr(inputs[i], part))
                return np.real(np.sum(np.conj(dh) * linear_rnn.linear_scan(*args)))
            numerical = numerical_gradient(loss, getattr(inputs[i], part).copy())
            assert rel_error(getattr(grad, part), numerical) < 1e-7, (i, part)


def test_backward_of_real_decays_is_real_even_with_complex_states():
    a, b, h0 = recurrence(12, T=5)
    b = b + 1j * b[::-1]
    h = linear_rnn.linear_scan(a, b, h0)
    da, db, dh0 = linear_rnn.linear_scan_backward(np.ones_like(h), a, h, h0)
    assert da.dtype == np.float64 and dh0.dtype == np.float64 and db.dtype == np.complex128


# ------------------------------------------------------------------ minGRU and minLSTM

def layer_inputs(seed=0, T=6, N=3, D=4, H=5, blocks=2):
    """x, h0 and the stacked U (blocks * H, D), b (blocks * H,) of minGRU (2 blocks) or minLSTM (3)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(T, N, D)), rng.normal(size=(N, H)),
            rng.normal(size=(blocks * H, D)) / 2, rng.normal(size=blocks * H))


def plain_mingru(x, h0, U, b):
    H = h0.shape[1]
    hs, h = [], h0
    for x_t in x:
        z = 1.0 / (1.0 + np.exp(-(x_t @ U[:H].T + b[:H])))
        h = (1 - z) * h + z * (x_t @ U[H:].T + b[H:])
        hs.append(h)
    return np.array(hs)


def plain_minlstm(x, h0, U, b):
    """The paper's equations one step at a time: f' = f / (f + i), i' = i / (f + i)."""
    H = h0.shape[1]
    hs, h = [], h0
    for x_t in x:
        f = 1.0 / (1.0 + np.exp(-(x_t @ U[:H].T + b[:H])))
        i = 1.0 / (1.0 + np.exp(-(x_t @ U[H:2 * H].T + b[H:2 * H])))
        h = f / (f + i) * h + i / (f + i) * (x_t @ U[2 * H:].T + b[2 * H:])
        hs.append(h)
    return np.array(hs)


def plain_fixed_decay(x, h0, U, b):
    """minGRU's gate on the input only; the decay 1 - sigmoid(b_z) is the same at every step."""
    H = h0.shape[1]
    hs, h = [], h0
    decay = 1.0 - 1.0 / (1.0 + np.exp(-b[:H]))
    for x_t in x:
        z = 1.0 / (1.0 + np.exp(-(x_t @ U[:H].T + b[:H])))
        h = decay * h + z * (x_t @ U[H:].T + b[H:])
        hs.append(h)
    return np.array(hs)


#: name -> (blocks, forward, backward, the equations step by step, the cache type)
LAYERS = {
    "mingru": (2, linear_rnn.mingru_forward, linear_rnn.mingru_backward, plain_mingru, linear_rnn.MinGRUCache),
    "minlstm": (3, linear_rnn.minlstm_forward, linear_rnn.minlstm_backward, plain_minlstm, linear_rnn.MinLSTMCache),
    "fixed_decay": (2, linear_rnn.fixed_decay_forward, linear_rnn.fixed_decay_backward, plain_fixed_decay,
                    linear_rnn.FixedDecayCache),
}


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_forward_matches_a_step_by_step_loop(layer):
    blocks, forward, _, plain, cache_type = LAYERS[layer]
    for seed, sizes in enumerate([(6, 3, 4, 5), (1, 1, 1, 1), (40, 2, 3, 2)]):
        x, h0, U, b = layer_inputs(seed, *sizes, blocks=blocks)
        hs, cache = forward(x, h0, U, b)
        np.testing.assert_allclose(hs, plain(x, h0, U, b), rtol=1e-10, atol=1e-12)
        assert isinstance(cache, cache_type) and cache.h_tilde.shape == hs.shape


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_backward_gradient_check(layer):
    blocks, forward, backward, _, _ = LAYERS[layer]
    x, h0, U, b = layer_inputs(1, blocks=blocks)
    hs, cache = forward(x, h0, U, b)
    dhs = np.random.default_rng(2).normal(size=hs.shape)
    assert_gradients_match(forward, [x, h0, U, b], backward(dhs, cache), dhs)


def test_minlstm_normalises_its_gates_even_where_f_plus_i_underflows():
    x, h0, U, b = layer_inputs(0, blocks=3)
    cache = linear_rnn.minlstm_forward(x, h0, U, b)[1]
    np.testing.assert_allclose(cache.i_norm, cache.i / (cache.f + cache.i), rtol=1e-12)
    x, h0, U, _ = layer_inputs(1, T=3, N=1, D=1, H=1, blocks=3)
    b = np.array([-800.0, -790.0, 0.0])                 # f and i are 0 in float64, f / i = exp(-10)
    hs, cache = linear_rnn.minlstm_forward(np.zeros_like(x), h0, U, b)
    assert np.all(cache.f + cache.i == 0)
    np.testing.assert_allclose(cache.i_norm, 1 / (1 + np.exp(-10.0)), rtol=1e-12)
    assert np.all(np.isfinite(hs))


def test_fixed_decay_equals_mingru_where_the_gates_ignore_the_input():
    x, h0, U, b = layer_inputs(5)
    U[:5] = 0.0                                         # z_t = sigmoid(b_z) at every step
    np.testing.assert_allclose(linear_rnn.fixed_decay_forward(x, h0, U, b)[0],
                               linear_rnn.mingru_forward(x, h0, U, b)[0], rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="cache returned by fixed_decay_forward.*MinGRUCache"):
        linear_rnn.fixed_decay_backward(np.zeros((6, 3, 5)), linear_rnn.mingru_forward(x, h0, U, b)[1])


def test_mingru_checks_shapes_and_caches():
    x, h0, U, b = layer_inputs(3)
    with pytest.raises(ValueError, match=r"U should have shape \(2H, D\) = \(10, 4\).*\(15, 4\)"):
        linear_rnn.mingru_forward(x, h0, np.zeros((15, 4)), b)
    with pytest.raises(ValueError, match="b should have shape"):
        linear_rnn.mingru_forward(x, h0, U, b[:-1])
    with pytest.raises(ValueError, match="cache returned by mingru_forward"):
        linear_rnn.mingru_backward(np.zeros((6, 3, 5)), ("not", "a", "cache"))


def test_minlstm_checks_shapes_and_caches():
    x, h0, U, b = layer_inputs(4, blocks=3)
    with pytest.raises(ValueError, match=r"U should have shape \(3H, D\) = \(15, 4\).*\(10, 4\)"):
        linear_rnn.minlstm_forward(x, h0, np.zeros((10, 4)), b)
    with pytest.raises(ValueError, match=r"b should have shape \(3H,\) = \(15,\)"):
        linear_rnn.minlstm_forward(x, h0, U, b[:-1])
    with pytest.raises(ValueError, match="x should be a floating-point array"):
        linear_rnn.minlstm_forward(x.astype(int), h0, U, b)
    hs, mingru_cache = linear_rnn.mingru_forward(*layer_inputs(4))
    with pytest.raises(ValueError, match="cache returned by minlstm_forward.*MinGRUCache"):
        linear_rnn.minlstm_backward(np.zeros_like(hs), mingru_cache)


# ------------------------------------------------------------------ linear attention

def plain_linear_attention(q, k, v):
    """Weights phi(q_t).phi(k_j) over j <= t, normalised, one query at a time."""
    def phi(u):
        return np.where(u > 0, u + 1.0, np.exp(u))
    T, N, _ = q.shape
    out = np.zeros((T, N, v.shape[2]))
    for n in range(N):
        for t in range(T):
            w = np.array([phi(q[t, n]) @ phi(k[j, n]) for j in range(t + 1)])
            out[t, n] = (w / w.sum()) @ v[:t + 1, n]
    return out


@pytest.mark.parametrize("method", linear_rnn.ATTENTION_METHODS)
def test_linear_attention_matches_the_definition(method):
    rng = np.random.default_rng(4)
    for T, N, Dk, Dv in [(1, 1, 1, 1), (7, 2, 3, 4), (20, 3, 2, 5)]:
        q, k, v = rng.normal(size=(T, N, Dk)), rng.normal(size=(T, N, Dk)), rng.normal(size=(T, N, Dv))
        np.testing.assert_allclose(linear_rnn.causal_linear_attention(q, k, v, method=method),
                                   plain_linear_attention(q, k, v), rtol=1e-10, atol=1e-12)


def test_linear_attention_checks_its_inputs():
    q = np.zeros((5, 2, 3))
    with pytest.raises(ValueError, match=r"k should have shape"):
        linear_rnn.causal_linear_attention(q, np.zeros((5, 2, 4)), np.zeros((5, 2, 6)))
    with pytest.raises(ValueError, match=r"v should have shape"):
        linear_rnn.causal_linear_attention(q, q, np.zeros((4, 2, 6)))
    with pytest.raises(ValueError, match="method should be one of"):
        linear_rnn.causal_linear_attention(q, q, q, method="softmax")


# ------------------------------------------------------------------ input checks, no mutation

def test_bad_inputs_get_clear_errors():
    a, b, h0 = recurrence(13)
    with pytest.raises(ValueError, match=r"b should have shape \(T, N, H\) = \(9, 2, 3\).*\(9, 2, 4\)"):
        linear_rnn.linear_scan(a, np.zeros((9, 2, 4)))
    with pytest.raises(ValueError, match=r"h0 should have shape \(N, H\) = \(2, 3\)"):
        linear_rnn.linear_scan(a, b, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="a should have 3 dimensions"):
        linear_rnn.linear_scan(a[0], b[0])
    with pytest.raises(ValueError, match="a should be a floating-point or complex array.*int64"):
        linear_rnn.linear_scan(np.ones((2, 1, 1), dtype=np.int64), np.ones((2, 1, 1)))
    with pytest.raises(ValueError, match=r"method should be one of \('loop', 'scan', 'blelloch', 'cumulative'\)"):
        linear_rnn.linear_scan(a, b, method="parallel")
    with pytest.raises(ValueError, match=r"dh should have shape|h should have shape"):
        linear_rnn.linear_scan_backward(np.zeros((9, 2, 3)), a, np.zeros((8, 2, 3)))


def test_no_function_modifies_its_inputs():
    a, b, h0 = recurrence(14, complex_=True)
    x, s0, U, bias = layer_inputs(15)
    U3, bias3 = layer_inputs(15, blocks=3)[2:]
    q = np.random.default_rng(16).normal(size=(6, 2, 3))
    arrays = [a, b, h0, x, s0, U, bias, U3, bias3, q]
    before = [array.copy() for array in arrays]
    for method in linear_rnn.METHODS:
        h = linear_rnn.linear_scan(a, b, h0, method=method)
    linear_rnn.linear_scan_backward(np.ones_like(h), a, h, h0)
    hs, cache = linear_rnn.mingru_forward(x, s0, U, bias)
    dhs = np.ones_like(hs)
    linear_rnn.mingru_backward(dhs, cache)
    linear_rnn.minlstm_backward(dhs, linear_rnn.minlstm_forward(x, s0, U3, bias3)[1])
    linear_rnn.fixed_decay_backward(dhs, linear_rnn.fixed_decay_forward(x, s0, U, bias)[1])
    for method in linear_rnn.ATTENTION_METHODS:
        linear_rnn.causal_linear_attention(q, q, q, method=method)
    for array, copy in zip(arrays + [dhs], before + [np.ones_like(hs)]):
        np.testing.assert_array_equal(array, copy)
