"""Attention: a decoder state looks at every encoder state and takes a weighted average.

For one decoder state s (N, Hs) and the encoder states h (T, N, He)::

    e_t     = score(s, h_t)                       scores          (N, T)
    alpha   = softmax over t of e_t               weights         (N, T), rows sum to 1
    context = sum_t alpha_t h_t                   context vector  (N, He)

Scores (column-vector maths, the code uses the same matrices):

* ``"dot"``:      e_t = s . h_t                                (needs Hs = He)
* ``"general"``:  e_t = s^T W_a h_t,  params {"W_a": (Hs, He)}  (bilinear)
* ``"additive"``: e_t = v^T tanh(W_s s + W_h h_t),
  params {"W_s": (A, Hs), "W_h": (A, He), "v": (A,)}           (a one-layer MLP)
* ``"cosine"``:   e_t = s . h_t / (|s| |h_t|)                   (needs Hs = He; the norms are
  computed as sqrt(|x|^2 + 1e-12) so a zero vector gets score 0 and a finite gradient)

``mask`` (T, N) booleans marks the real tokens: padded positions (False) get exactly zero
weight, and every column must hold at least one True.
"""
from typing import NamedTuple, Optional

import numpy as np

from .validation import as_bool_array, as_float_array, check_cache

SCORES = ("dot", "general", "additive", "cosine")
PARAM_SPECS = {
    "dot": {},
    "general": {"W_a": ("Hs", "He")},
    "additive": {"W_s": ("A", "Hs"), "W_h": ("A", "He"), "v": ("A",)},
    "cosine": {},
}
#: Added to squared norms in the cosine score (keeps a zero vector differentiable).
COSINE_EPS = 1e-12


class AttentionCache(NamedTuple):
    score: str
    s: np.ndarray
    h: np.ndarray
    params: dict
    mask: Optional[np.ndarray]
    alpha: np.ndarray          # (N, T)
    aux: tuple                 # score-specific intermediates


def _check_inputs(s, h, score, params, mask):
    if not isinstance(score, str) or score not in SCORES:
        raise ValueError(f"score should be one of {', '.join(repr(n) for n in SCORES)}, but got {score!r}")
    dims, origin = {}, {}
    s = as_float_array("s", s, ("N", "Hs"), dims, origin)
    same_size = score in ("dot", "cosine")
    h = as_float_array("h", h, ("T", "N", "Hs" if same_size else "He"), dims, origin)
    spec = PARAM_SPECS[score]
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValueError(f"params should be a dict (or None), but got {type(params).__name__}")
    missing = sorted(set(spec) - set(params))
    extra = sorted(set(params) - set(spec))
    if missing or extra:
        wanted = ", ".join(f"{k} {v}" for k, v in spec.items()) or "none"
        raise ValueError(
            f"params for score {score!r} should have the keys: {wanted}; "
            + (f"missing {missing}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {extra}" if extra else "")
        )
    checked = {k: as_float_array(f"params['{k}']", params[k], v, dims, origin) for k, v in spec.items()}
    if mask is not None:
        mask = as_bool_array("mask", mask, ("T", "N"), dims, origin)
        if not mask.any(axis=0).all():
            raise ValueError("mask should have at least one True (a real token) in every column n, "
                             "but some column is all False")
    return s, h, checked, mask


def attention_scores(s, h, score, params):
    """Scores e (N, T) and the intermediates the backward needs (inputs already checked)."""
    if score == "dot":
        return np.einsum("nh,tnh->nt", s, h), ()
    if score == "general":
        q = s @ params["W_a"]                                   # (N, He)
        return np.einsum("nh,tnh->nt", q, h), (q,)
    if score == "additive":
        u = np.tanh((s @ params["W_s"].T)[None] + h @ params["W_h"].T)   # (T, N, A)
        return (u @ params["v"]).T, (u,)
    ns = np.sqrt(np.sum(s * s, axis=-1) + COSINE_EPS)           # (N,)
    nh = np.sqrt(np.sum(h * h, axis=-1) + COSINE_EPS)           # (T, N)
    dot = np.einsum("nh,tnh->nt", s, h)
    return dot / (ns[:, None] * nh.T), (ns, nh, dot)


def masked_softmax(e, mask):
    """Softmax of e (N, T) over T; where mask (T, N) is False the weight is exactly 0."""
    if mask is None:
        z = e - e.max(axis=1, keepdims=True)
        w = np.exp(z)
    else:
        keep = mask.T
        m = np.where(keep, e, -np.inf).max(axis=1, keepdims=True)
        w = np.where(keep, np.exp(np.where(keep, e - m, 0.0)), 0.0)
    return w / w.sum(axis=1, keepdims=True)


def attention_forward(s, h, score="dot", params=None, mask=None):
    """Attend from s (N, Hs) over h (T, N, He) -> context (N, He), alpha (N, T), cache."""
    s, h, params, mask = _check_inputs(s, h, score, params, mask)
    e, aux = attention_scores(s, h, score, params)
    alpha = masked_softmax(e, mask)
    context = np.einsum("nt,tnh->nh", alpha, h)
    return context, alpha, AttentionCache(score, s, h, params, mask, alpha, aux)


def attention_backward(dcontext, cache):
    """Backward of attention_forward: dcontext (N, He) -> ds (N, Hs), dh (T, N, He), dparams.

    dparams has the keys of the score's params ({} for "dot" and "cosine").
    """
    check_cache("cache", cache, AttentionCache, "attention_forward")
    score, s, h, params, _, alpha, aux = cache
    T, N, He = h.shape
    dcontext = as_float_array("dcontext", dcontext, (N, He), {})
    dh = alpha.T[:, :, None] * dcontext[None]                   # through the weighted sum
    dalpha = np.einsum("nh,tnh->nt", dcontext, h)
    de = alpha * (dalpha - np.sum(alpha * dalpha, axis=1, keepdims=True))   # softmax; 0 where masked
    dparams = {}
    if score == "dot":
        ds = np.einsum("nt,tnh->nh", de, h)
        dh = dh + de.T[:, :, None] * s[None]
    elif score == "general":
        (q,) = aux
        dq = np.einsum("nt,tnh->nh", de, h)
        dh = dh + de.T[:, :, None] * q[None]
        ds = dq @ params["W_a"].T
        dparams["W_a"] = s.T @ dq
    elif score == "additive":
        (u,) = aux
        A = u.shape[-1]
        dparams["v"] = np.einsum("nt,tna->a", de, u)
        dpre = de.T[:, :, None] * params["v"] * (1.0 - u * u)   # (T, N, A)
        dpre_s = dpre.sum(axis=0)                               # (N, A)
        ds = dpre_s @ params["W_s"]
        dparams["W_s"] = dpre_s.T @ s
        dh = dh + dpre @ params["W_h"]
        dparams["W_h"] = dpre.reshape(T * N, A).T @ h.reshape(T * N, He)
    else:  # cosine: e = dot / (ns nh)
        ns, nh, dot = aux
        g = de / (ns[:, None] * nh.T)                           # d e / d dot, times de
        ds = np.einsum("nt,tnh->nh", g, h) - (np.sum(g * dot, axis=1) / ns ** 2)[:, None] * s
        dh = dh + g.T[:, :, None] * s[None] - ((g * dot).T / nh ** 2)[:, :, None] * h
    return ds, dh, dparams
