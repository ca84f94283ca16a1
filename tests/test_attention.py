"""Tests of rnn_helpers.attention: values, gradients, masking, input checks."""
import numpy as np
import pytest

from rnn_helpers import attention
from rnn_helpers.gradcheck import numerical_gradient, rel_error

SCORES = ("dot", "scaled_dot", "general", "additive", "cosine")


def make_inputs(score, seed=0, T=5, N=3, Hs=4, He=4, A=6, masked=False):
    rng = np.random.default_rng(seed)
    if score in ("dot", "scaled_dot", "cosine"):
        He = Hs
    s = rng.normal(size=(N, Hs))
    h = rng.normal(size=(T, N, He))
    params = {
        "dot": {}, "scaled_dot": {}, "cosine": {},
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
            elif score == "scaled_dot":
                e[t] = sv @ hv / np.sqrt(len(hv))
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


def test_additive_keys_computed_once_give_the_same_values_and_gradients():
    s, h, params, mask = make_inputs("additive", seed=8, He=5, masked=True)
    dcontext = np.random.default_rng(9).normal(size=(s.shape[0], h.shape[-1]))
    context, alpha, cache = attention.attention_forward(s, h, "additive", params, mask)
    ds, dh, dparams = attention.attention_backward(dcontext, cache)
    keys = attention.additive_keys(h, params["W_h"])
    context_k, alpha_k, cache_k = attention.attention_forward(s, h, "additive", params, mask, keys=keys)
    np.testing.assert_allclose(context_k, context, rtol=1e-12)
    np.testing.assert_allclose(alpha_k, alpha, rtol=1e-12)
    ds_k, dh_k, dparams_k = attention.attention_backward(dcontext, cache_k)
    assert set(dparams_k) == {"W_s", "v", "keys"}
    dh_keys, dW_h = attention.additive_keys_backward(dparams_k["keys"], h, params["W_h"])
    np.testing.assert_allclose(ds_k, ds, rtol=1e-12)
    np.testing.assert_allclose(dh_k + dh_keys, dh, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dW_h, dparams["W_h"], rtol=1e-12)
    for name in ("W_s", "v"):
        np.testing.assert_allclose(dparams_k[name], dparams[name], rtol=1e-12)
    with pytest.raises(ValueError, match="keys can only be given for the 'additive' score"):
        attention.attention_forward(s, h[..., :4], "dot", mask=mask, keys=keys)
    with pytest.raises(ValueError, match="keys should have shape"):
        attention.attention_forward(s, h, "additive", params, mask, keys=keys[:, :, :2])


def test_stable_for_huge_scores_and_float32():
    s, h, _, mask = make_inputs("dot", seed=3, masked=True)
    context, alpha, _ = attention.attention_forward(1e4 * s, 1e4 * h, "dot", mask=mask)
    assert np.all(np.isfinite(alpha)) and np.all(np.isfinite(context))
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0)
    context32, alpha32, cache = attention.attention_forward(s.astype(np.float32), h.astype(np.float32))
    assert context32.dtype == np.float32 and alpha32.dtype == np.float32
    ds, dh, _ = attention.attention_backward(np.ones_like(context32), cache)
    assert ds.dtype == np.float32 and dh.dtype == np.float32


@pytest.mark.parametrize("score", SCORES)
def test_float32_stays_float32(score):
    s, h, params, mask = make_inputs(score, seed=10, masked=True)
    s, h = s.astype(np.float32), h.astype(np.float32)
    params = {k: v.astype(np.float32) for k, v in params.items()}
    context, alpha, cache = attention.attention_forward(s, h, score, params, mask)
    ds, dh, dparams = attention.attention_backward(np.ones_like(context), cache)
    assert {a.dtype for a in (context, alpha, ds, dh, *dparams.values())} == {np.dtype(np.float32)}
    x = h
    self_params = {name: np.ones((3, h.shape[-1]), np.float32) / 4 for name in ("W_q", "W_k", "W_v")}
    out, attn, cache = attention.self_attention_forward(x, self_params, mask, causal=True)
    dx, dself = attention.self_attention_backward(np.ones_like(out), cache)
    assert {a.dtype for a in (out, attn, dx, *dself.values())} == {np.dtype(np.float32)}


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


# ---------------------------------------------------------------- self-attention
def make_self_inputs(seed=0, T=5, N=3, D=4, Dk=3, Dv=2, mask_kind=None):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, N, D))
    # Weights of scale 0.5 keep the softmax away from saturation, where tiny weights
    # would make the relative errors of a finite-difference check meaningless.
    params = {"W_q": 0.5 * rng.normal(size=(Dk, D)), "W_k": 0.5 * rng.normal(size=(Dk, D)),
              "W_v": rng.normal(size=(Dv, D))}
    mask = None
    if mask_kind == "padding":
        mask = np.arange(T)[:, None] < np.array([T, 2, 1][:N] + [T] * max(0, N - 3))[None, :]
    elif mask_kind == "holes":
        mask = rng.random((T, N)) < 0.6
        mask[0] = False                       # with causal, query 0 has no allowed key
        mask[-1] = True
    return x, params, mask


def independent_self_attention(x, params, mask, causal):
    """One example and one query at a time, column vectors, explicit loops."""
    T, N, _ = x.shape
    Dk, Dv = params["W_q"].shape[0], params["W_v"].shape[0]
    out, attn = np.zeros((T, N, Dv)), np.zeros((N, T, T))
    for n in range(N):
        for i in range(T):
            q = params["W_q"] @ x[i, n]
            allowed = [j for j in range(T)
                       if (mask is None or mask[j, n]) and (not causal or j <= i)]
            if not allowed:
                continue
            e = np.array([q @ (params["W_k"] @ x[j, n]) / np.sqrt(Dk) for j in allowed])
            w = np.exp(e - e.max())
            w /= w.sum()
            for wj, j in zip(w, allowed):
                attn[n, i, j] = wj
                out[i, n] += wj * (params["W_v"] @ x[j, n])
    return out, attn


SELF_CASES = [(None, False), (None, True), ("padding", False), ("padding", True),
              ("holes", False), ("holes", True)]


@pytest.mark.parametrize("mask_kind,causal", SELF_CASES)
def test_self_attention_matches_independent_implementation(mask_kind, causal):
    x, params, mask = make_self_inputs(seed=10, mask_kind=mask_kind)
    out, attn, _ = attention.self_attention_forward(x, params, mask, causal)
    exp_out, exp_attn = independent_self_attention(x, params, mask, causal)
    assert out.shape == (5, 3, 2) and attn.shape == (3, 5, 5)
    assert out.dtype == np.float64 and attn.dtype == np.float64
    np.testing.assert_allclose(attn, exp_attn, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(out, exp_out, rtol=1e-10, atol=1e-13)
    if mask is not None:
        assert np.all(attn.transpose(0, 2, 1)[~mask.T] == 0.0), "padded keys must get weight 0"
    if causal:
        assert np.all(np.triu(attn, k=1) == 0.0), "future keys must get weight 0"


def test_self_attention_fully_masked_queries_are_zero_not_nan():
    x, params, mask = make_self_inputs(seed=11, mask_kind="holes")
    mask[:, 1] = False                         # a sequence that is all padding
    out, attn, cache = attention.self_attention_forward(x, params, mask, causal=True)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(attn))
    np.testing.assert_array_equal(attn[1], 0.0)
    np.testing.assert_array_equal(out[:, 1], 0.0)
    np.testing.assert_array_equal(attn[:, 0], 0.0)     # mask[0] is False: query 0 sees nothing
    rows = attn.sum(axis=-1)
    assert np.all((np.abs(rows - 1.0) < 1e-12) | (rows == 0.0))
    dx, dparams = attention.self_attention_backward(np.ones_like(out), cache)
    assert all(np.all(np.isfinite(g)) for g in (dx, *dparams.values()))


@pytest.mark.parametrize("mask_kind,causal", SELF_CASES)
def test_self_attention_gradients(mask_kind, causal):
    x, params, mask = make_self_inputs(seed=12, mask_kind=mask_kind)
    out, _, cache = attention.self_attention_forward(x, params, mask, causal)
    dout = np.random.default_rng(13).normal(size=out.shape)
    dx, dparams = attention.self_attention_backward(dout, cache)
    assert set(dparams) == {"W_q", "W_k", "W_v"}

    def f(_):
        return attention.self_attention_forward(x, params, mask, causal)[0]

    assert rel_error(dx, numerical_gradient(f, x, dout)) < 1e-6
    for name in params:
        assert dparams[name].shape == params[name].shape
        assert rel_error(dparams[name], numerical_gradient(f, params[name], dout)) < 1e-6, name


def test_self_attention_scale_is_sqrt_dk():
    """Doubling Dk with duplicated rows doubles q.k; the 1/sqrt(Dk) keeps a factor sqrt(2)."""
    x, params, _ = make_self_inputs(seed=14, Dk=3)
    _, attn, _ = attention.self_attention_forward(x, params)
    wide = {"W_q": np.vstack([params["W_q"]] * 2), "W_k": np.vstack([params["W_k"]] * 2),
            "W_v": params["W_v"]}
    scaled = {"W_q": np.sqrt(2.0) * params["W_q"], "W_k": params["W_k"], "W_v": params["W_v"]}
    _, attn_wide, _ = attention.self_attention_forward(x, wide)
    _, attn_scaled, _ = attention.self_attention_forward(x, scaled)
    np.testing.assert_allclose(attn_wide, attn_scaled, rtol=1e-12)
    assert not np.allclose(attn_wide, attn)


def test_self_attention_is_stable_and_does_not_mutate():
    x, params, mask = make_self_inputs(seed=15, mask_kind="padding")
    copies = [a.copy() for a in (x, mask, *params.values())]
    out, attn, cache = attention.self_attention_forward(1e3 * x, params, mask, True)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(attn))
    dout = np.ones_like(out)
    attention.self_attention_backward(dout, cache)
    for before, after in zip(copies, (x, mask, *params.values())):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(dout, 1.0)


def test_self_attention_errors():
    x, params, mask = make_self_inputs(seed=16)
    with pytest.raises(ValueError, match="x should have 3 dimensions"):
        attention.self_attention_forward(x[0], params)
    with pytest.raises(ValueError, match="x should be a floating-point array"):
        attention.self_attention_forward(x.astype(int), params)
    with pytest.raises(ValueError, match=r"missing \['W_v'\]"):
        attention.self_attention_forward(x, {k: params[k] for k in ("W_q", "W_k")})
    with pytest.raises(ValueError, match=r"unexpected \['W_o'\]"):
        attention.self_attention_forward(x, {**params, "W_o": params["W_v"]})
    with pytest.raises(ValueError, match=r"params\['W_k'\] should have shape"):
        attention.self_attention_forward(x, {**params, "W_k": params["W_k"][:2]})
    with pytest.raises(ValueError, match=r"params\['W_q'\] should have shape"):
        attention.self_attention_forward(x, {**params, "W_q": params["W_q"][:, :2]})
    with pytest.raises(ValueError, match="mask should be a boolean"):
        attention.self_attention_forward(x, params, np.ones(x.shape[:2]))
    with pytest.raises(ValueError, match="mask should have shape"):
        attention.self_attention_forward(x, params, np.ones((x.shape[0], 1), bool))
    with pytest.raises(ValueError, match="causal should be True or False"):
        attention.self_attention_forward(x, params, causal="yes")
    with pytest.raises(ValueError, match="params should be a dict"):
        attention.self_attention_forward(x, [params["W_q"]])
    out, _, cache = attention.self_attention_forward(x, params)
    with pytest.raises(ValueError, match="dout should have shape"):
        attention.self_attention_backward(out[:, :, :1], cache)
    with pytest.raises(ValueError, match="cache should be the cache returned by self_attention_forward"):
        attention.self_attention_backward(out, (1, 2))
