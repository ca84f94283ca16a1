"""Tests of rnn_helpers.attention: values, gradients, masking, input checks."""
import numpy as np
import pytest

from rnn_helpers import attention
from rnn_helpers.gradcheck import numerical_gradient, rel_error

SCORES = ("dot", "general", "additive", "cosine")


def make_inputs(score, seed=0, T=5, N=3, Hs=4, He=4, A=6, masked=False):
    rng = np.random.default_rng(seed)
    if score in ("dot", "cosine"):
        He = Hs
    s = rng.normal(size=(N, Hs))
    h = rng.normal(size=(T, N, He))
    params = {
        "dot": {}, "cosine": {},
        "general": {"W_a": 0.5 * rng.normal(size=(Hs, He))},
        "additive": {"W_s": rng.normal(size=(A, Hs)), "W_h": rng.normal(size=(A, He)),
                     "v": rng.normal(size=A)},
    }[score]
    mask = None
    if masked:
        lengths = rng.integers(1, T + 1, size=N)
        lengths[0] = 1
        mask = np.arange(T)[:, None] < lengths[None, :]
        mask[:, -1] = rng.random(T) < 0.5          # a column with holes, not only a prefix
        mask[0, -1] = True
    return s, h, params, mask


def independent_attention(s, h, score, params, mask):
    """One example and one position at a time, column vectors, plain Python loops."""
    T, N, He = h.shape
    context, alpha = np.zeros((N, He)), np.zeros((N, T))
    for n in range(N):
        e = np.zeros(T)
        for t in range(T):
            sv, hv = s[n], h[t, n]
            if score == "dot":
                e[t] = sv @ hv
            elif score == "general":
                e[t] = sv @ params["W_a"] @ hv
            elif score == "additive":
                e[t] = params["v"] @ np.tanh(params["W_s"] @ sv + params["W_h"] @ hv)
            else:
                e[t] = sv @ hv / (np.linalg.norm(sv) * np.linalg.norm(hv))
        keep = np.ones(T, bool) if mask is None else mask[:, n]
        w = np.zeros(T)
        w[keep] = np.exp(e[keep] - e[keep].max())
        alpha[n] = w / w.sum()
        context[n] = alpha[n] @ h[:, n]
    return context, alpha


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("score", SCORES)
def test_values_match_independent_implementation(score, masked):
    s, h, params, mask = make_inputs(score, seed=1, He=3, masked=masked)
    context, alpha, _ = attention.attention_forward(s, h, score, params, mask)
    exp_context, exp_alpha = independent_attention(s, h, score, params, mask)
    np.testing.assert_allclose(alpha, exp_alpha, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(context, exp_context, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0, rtol=1e-12)
    if mask is not None:
        assert np.all(alpha.T[~mask] == 0.0)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("score", SCORES)
def test_gradients(score, masked):
    s, h, params, mask = make_inputs(score, seed=2, Hs=4, He=3, masked=masked)
    dcontext = np.random.default_rng(20).normal(size=(s.shape[0], h.shape[2]))
    context, alpha, cache = attention.attention_forward(s, h, score, params, mask)
    ds, dh, dparams = attention.attention_backward(dcontext, cache)
    assert set(dparams) == set(params)

    def f(_):
        return attention.attention_forward(s, h, score, params, mask)[0]

    assert rel_error(ds, numerical_gradient(f, s, dcontext)) < 1e-6
    assert rel_error(dh, numerical_gradient(f, h, dcontext)) < 1e-6
    for name in params:
        assert rel_error(dparams[name], numerical_gradient(f, params[name], dcontext)) < 1e-6, name
    if mask is not None:
        assert np.all(dh[~mask] == 0.0), "padded encoder states must get no gradient"


def test_stable_for_huge_scores_and_float32():
    s, h, _, mask = make_inputs("dot", seed=3, masked=True)
    context, alpha, _ = attention.attention_forward(1e4 * s, 1e4 * h, "dot", mask=mask)
    assert np.all(np.isfinite(alpha)) and np.all(np.isfinite(context))
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0)
    context32, alpha32, cache = attention.attention_forward(s.astype(np.float32), h.astype(np.float32))
    assert context32.dtype == np.float32 and alpha32.dtype == np.float32
    ds, dh, _ = attention.attention_backward(np.ones_like(context32), cache)
    assert ds.dtype == np.float32 and dh.dtype == np.float32


def test_cosine_of_zero_vector_is_finite():
    s, h, _, _ = make_inputs("cosine", seed=4)
    s[0] = 0.0
    context, alpha, cache = attention.attention_forward(s, h, "cosine")
    np.testing.assert_allclose(alpha[0], 1.0 / h.shape[0])
    ds, dh, _ = attention.attention_backward(np.ones_like(context), cache)
    assert np.all(np.isfinite(ds)) and np.all(np.isfinite(dh))


@pytest.mark.parametrize("score", SCORES)
def test_inputs_not_mutated(score):
    s, h, params, mask = make_inputs(score, seed=5, masked=True)
    copies = [a.copy() for a in (s, h, mask, *params.values())]
    context, _, cache = attention.attention_forward(s, h, score, params, mask)
    dcontext = np.ones_like(context)
    attention.attention_backward(dcontext, cache)
    for before, after in zip(copies, (s, h, mask, *params.values())):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(dcontext, 1.0)


def test_errors():
    s, h, params, _ = make_inputs("general", seed=6, He=3)
    with pytest.raises(ValueError, match="score should be one of"):
        attention.attention_forward(s, h, "bilinear", params)
    with pytest.raises(ValueError, match="missing"):
        attention.attention_forward(s, h, "general")
    with pytest.raises(ValueError, match="unexpected"):
        attention.attention_forward(s, s[None], "dot", {"W_a": params["W_a"]})
    with pytest.raises(ValueError, match=r"params\['W_a'\]"):
        attention.attention_forward(s, h, "general", {"W_a": params["W_a"].T})
    with pytest.raises(ValueError, match="h should have shape"):
        attention.attention_forward(s, h, "dot")                 # He = 3 but Hs = 4
    with pytest.raises(ValueError, match="s should have 2 dimensions"):
        attention.attention_forward(s[0], h, "general", params)
    with pytest.raises(ValueError, match="mask should be a boolean"):
        attention.attention_forward(s, h, "general", params, np.ones(h.shape[:2]))
    with pytest.raises(ValueError, match="mask should have at least one True"):
        attention.attention_forward(s, h, "general", params, np.zeros(h.shape[:2], bool))
    with pytest.raises(ValueError, match="params should be a dict"):
        attention.attention_forward(s, h, "general", [params["W_a"]])
    context, _, cache = attention.attention_forward(s, h, "general", params)
    with pytest.raises(ValueError, match="dcontext should have shape"):
        attention.attention_backward(context[:, :2], cache)
    with pytest.raises(ValueError, match="cache should be the cache returned by attention_forward"):
        attention.attention_backward(context, (1, 2))
