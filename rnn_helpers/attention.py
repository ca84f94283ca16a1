"""Attention: a decoder state looks at every encoder state and takes a weighted average.

For one decoder state s (N, Hs) and the encoder states h (T, N, He)::

    e_t     = score(s, h_t)                       scores          (N, T)
    alpha   = softmax over t of e_t               weights         (N, T), rows sum to 1
    context = sum_t alpha_t h_t                   context vector  (N, He)

Scores (column-vector maths, the code uses the same matrices):

* ``"dot"``:      e_t = s . h_t                                (needs Hs = He)
* ``"scaled_dot"``: e_t = s . h_t / sqrt(He)                   (needs Hs = He; keeps the
  scores' variance near 1 whatever the size, so the softmax does not saturate)
* ``"general"``:  e_t = s^T W_a h_t,  params {"W_a": (Hs, He)}  (bilinear)
* ``"additive"``: e_t = v^T tanh(W_s s + W_h h_t),
  params {"W_s": (A, Hs), "W_h": (A, He), "v": (A,)}           (a one-layer MLP)
* ``"cosine"``:   e_t = s . h_t / (|s| |h_t|)                   (needs Hs = He; the norms are
  computed as sqrt(|x|^2 + 1e-12) so a zero vector gets score 0 and a finite gradient)

``mask`` (T, N) booleans marks the real tokens: padded positions (False) get exactly zero
weight, and every column must hold at least one True.

A decoder attends over the same h at every step. For the additive score, the part that
depends on h only, keys = h W_h^T (T, N, A), is then computed once (``additive_keys``) and
passed as ``attention_forward(..., keys=keys)``; ``attention_backward`` of such a step returns
the gradient on the keys as ``dparams["keys"]`` (in place of W_h's, and without the keys'
part of dh), and the caller turns the keys' gradient, summed over the steps, into dh and
dW_h once (``additive_keys_backward``).

Self-attention (``self_attention_forward``): every position of one sequence x (T, N, D)
attends over the same sequence, with queries, keys and values made from x::

    q_i = W_q x_i,  k_j = W_k x_j,  v_j = W_v x_j     params W_q (Dk, D), W_k (Dk, D), W_v (Dv, D)
    e_ij = q_i . k_j / sqrt(Dk),  attn_i = softmax over the allowed keys j,  out_i = sum_j attn_ij v_j

A key j is allowed for query i when ``mask[j]`` is True (if a mask is given) and, with
``causal=True``, when j <= i. A query with no allowed key at all (its sequence is all
padding, or causal with padding at the start) gets all-zero weights and output 0, and
passes no gradient: no NaN. Padded *queries* are not zeroed: their outputs are computed
like any other and are for the caller to ignore (or mask in the loss).
"""
import math
from typing import NamedTuple, Optional

import numpy as np

from .validation import as_bool_array, as_float_array, check_cache

SCORES = ("dot", "scaled_dot", "general", "additive", "cosine")
PARAM_SPECS = {
    "dot": {},
    "scaled_dot": {},
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
    keys_given: bool = False   # additive score with keys computed by the caller


def _check_inputs(s, h, score, params, mask):
    if not isinstance(score, str) or score not in SCORES:
        raise ValueError(f"score should be one of {', '.join(repr(n) for n in SCORES)}, but got {score!r}")
    dims, origin = {}, {}
    s = as_float_array("s", s, ("N", "Hs"), dims, origin)
    same_size = score in ("dot", "scaled_dot", "cosine")
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


def additive_keys(h, W_h):
    """The part of the additive score that depends on h only: keys (T, N, A) = h W_h^T."""
    return h @ W_h.T


def additive_keys_backward(dkeys, h, W_h):
    """Gradients through keys = h W_h^T: dkeys (T, N, A) -> dh (T, N, He), dW_h (A, He)."""
    T, N, A = dkeys.shape
    return dkeys @ W_h, dkeys.reshape(T * N, A).T @ h.reshape(T * N, h.shape[-1])


def attention_scores(s, h, score, params, keys=None):
    """Scores e (N, T) and the intermediates the backward needs (inputs already checked).

    keys: for the additive score, ``additive_keys(h, params["W_h"])`` when already computed.
    """
    if score == "dot":
        return np.einsum("nh,tnh->nt", s, h), ()
    if score == "scaled_dot":
        return np.einsum("nh,tnh->nt", s, h) / math.sqrt(h.shape[-1]), ()
    if score == "general":
        q = s @ params["W_a"]                                   # (N, He)
        return np.einsum("nh,tnh->nt", q, h), (q,)
    if score == "additive":
        keys = additive_keys(h, params["W_h"]) if keys is None else keys
        u = np.tanh((s @ params["W_s"].T)[None] + keys)                   # (T, N, A)
        return (u @ params["v"]).T, (u,)
    ns = np.sqrt(np.sum(s * s, axis=-1) + COSINE_EPS)           # (N,)
    nh = np.sqrt(np.sum(h * h, axis=-1) + COSINE_EPS)           # (T, N)
    dot = np.einsum("nh,tnh->nt", s, h)
    return dot / (ns[:, None] * nh.T), (ns, nh, dot)


def softmax_where(e, keep=None):
    """Softmax over the last axis of e, restricted to the entries where keep is True.

    Entries where keep (broadcastable to e) is False get weight exactly 0; a row with no
    kept entry gets all zeros (not NaN). Stable for any finite e.
    """
    if keep is None:
        w = np.exp(e - e.max(axis=-1, keepdims=True))
        return w / w.sum(axis=-1, keepdims=True)
    keep = np.broadcast_to(keep, e.shape)
    m = np.where(keep, e, -np.inf).max(axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    w = np.where(keep, np.exp(np.where(keep, e - m, 0.0)), 0.0)
    total = w.sum(axis=-1, keepdims=True)
    return w / np.where(total > 0.0, total, 1.0)


def masked_softmax(e, mask):
    """Softmax of e (N, T) over T; where mask (T, N) is False the weight is exactly 0."""
    return softmax_where(e, None if mask is None else mask.T)


def attention_forward(s, h, score="dot", params=None, mask=None, *, keys=None):
    """Attend from s (N, Hs) over h (T, N, He) -> context (N, He), alpha (N, T), cache.

    keys (additive score only): ``additive_keys(h, params["W_h"])``, computed once by a
    caller that attends over the same h many times (see the module docstring).
    """
    s, h, params, mask = _check_inputs(s, h, score, params, mask)
    if keys is not None:
        if score != "additive":
            raise ValueError(f"keys can only be given for the 'additive' score, not for {score!r}")
        keys = as_float_array("keys", keys, h.shape[:2] + params["W_h"].shape[:1], {})
    e, aux = attention_scores(s, h, score, params, keys)
    alpha = masked_softmax(e, mask)
    context = np.einsum("nt,tnh->nh", alpha, h)
    return context, alpha, AttentionCache(score, s, h, params, mask, alpha, aux, keys is not None)


def attention_backward(dcontext, cache):
    """Backward of attention_forward: dcontext (N, He) -> ds (N, Hs), dh (T, N, He), dparams.

    dparams has the keys of the score's params ({} for "dot", "scaled_dot" and "cosine");
    for an additive step given its keys, "keys" (T, N, A) replaces "W_h" and dh leaves out
    the path through the keys.
    """
    check_cache("cache", cache, AttentionCache, "attention_forward")
    score, s, h, params, _, alpha, aux, keys_given = cache
    T, N, He = h.shape
    dcontext = as_float_array("dcontext", dcontext, (N, He), {})
    dh = alpha.T[:, :, None] * dcontext[None]                   # through the weighted sum
    dalpha = np.einsum("nh,tnh->nt", dcontext, h)
    de = alpha * (dalpha - np.sum(alpha * dalpha, axis=1, keepdims=True))   # softmax; 0 where masked
    dparams = {}
    if score in ("dot", "scaled_dot"):
        if score == "scaled_dot":
            de = de / math.sqrt(He)
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
        dparams["v"] = np.einsum("nt,tna->a", de, u)
        dpre = de.T[:, :, None] * params["v"] * (1.0 - u * u)   # (T, N, A): the gradient on the keys
        dpre_s = dpre.sum(axis=0)                               # (N, A)
        ds = dpre_s @ params["W_s"]
        dparams["W_s"] = dpre_s.T @ s
        if keys_given:
            dparams["keys"] = dpre
        else:
            dh_keys, dparams["W_h"] = additive_keys_backward(dpre, h, params["W_h"])
            dh = dh + dh_keys
    else:  # cosine: e = dot / (ns nh)
        ns, nh, dot = aux
        g = de / (ns[:, None] * nh.T)                           # d e / d dot, times de
        ds = np.einsum("nt,tnh->nh", g, h) - (np.sum(g * dot, axis=1) / ns ** 2)[:, None] * s
        dh = dh + g.T[:, :, None] * s[None] - ((g * dot).T / nh ** 2)[:, :, None] * h
    return ds, dh, dparams


SELF_PARAM_SPECS = {"W_q": ("Dk", "D"), "W_k": ("Dk", "D"), "W_v": ("Dv", "D")}


class SelfAttentionCache(NamedTuple):
    x: np.ndarray              # (T, N, D)
    params: dict
    q: np.ndarray              # (T, N, Dk)
    k: np.ndarray              # (T, N, Dk)
    v: np.ndarray              # (T, N, Dv)
    attn: np.ndarray           # (N, T, T)


def allowed_keys(T, mask=None, causal=False):
    """Booleans (N or 1, T, T): entry [n, i, j] says whether query i may attend to key j."""
    allowed = np.ones((1, T, T), dtype=bool)
    if mask is not None:
        allowed = allowed & mask.T[:, None, :]
    if causal:
        allowed = allowed & np.tri(T, dtype=bool)[None]
    return allowed


def _check_self_inputs(x, params, mask, causal):
    dims, origin = {}, {}
    x = as_float_array("x", x, ("T", "N", "D"), dims, origin)
    if not isinstance(params, dict):
        raise ValueError(f"params should be a dict with the keys W_q, W_k, W_v, but got {type(params).__name__}")
    missing = sorted(set(SELF_PARAM_SPECS) - set(params))
    extra = sorted(set(params) - set(SELF_PARAM_SPECS))
    if missing or extra:
        raise ValueError("params should have the keys W_q (Dk, D), W_k (Dk, D), W_v (Dv, D); "
                         + "; ".join(([f"missing {missing}"] if missing else [])
                                     + ([f"unexpected {extra}"] if extra else [])))
    checked = {k: as_float_array(f"params['{k}']", params[k], v, dims, origin)
               for k, v in SELF_PARAM_SPECS.items()}
    if mask is not None:
        mask = as_bool_array("mask", mask, ("T", "N"), dims, origin)
    if not isinstance(causal, (bool, np.bool_)):
        raise ValueError(f"causal should be True or False, but got {causal!r}")
    return x, checked, mask


def self_attention_forward(x, params, mask=None, causal=False):
    """Scaled dot-product self-attention over x (T, N, D) -> out (T, N, Dv), attn (N, T, T), cache.

    attn[n, i, j] is the weight of key j for query i (zero where mask[j, n] is False and,
    with causal, where j > i; a query with no allowed key gets zero weights and out 0).
    """
    x, params, mask = _check_self_inputs(x, params, mask, causal)
    q = x @ params["W_q"].T
    k = x @ params["W_k"].T
    v = x @ params["W_v"].T
    # Batched matrix products over the examples n (axis 0 after the transposes): faster than einsum.
    scores = q.transpose(1, 0, 2) @ k.transpose(1, 2, 0) / math.sqrt(q.shape[-1])      # (N, T, T)
    keep = None if mask is None and not causal else allowed_keys(x.shape[0], mask, bool(causal))
    attn = softmax_where(scores, keep)
    out = (attn @ v.transpose(1, 0, 2)).transpose(1, 0, 2)                             # (T, N, Dv)
    return out, attn, SelfAttentionCache(x, params, q, k, v, attn)


def self_attention_backward(dout, cache):
    """Backward of self_attention_forward: dout (T, N, Dv) -> dx (T, N, D), dparams.

    dparams = {"W_q": (Dk, D), "W_k": (Dk, D), "W_v": (Dv, D)}, summed over batch and time.
    """
    check_cache("cache", cache, SelfAttentionCache, "self_attention_forward")
    x, params, q, k, v, attn = cache
    dout = as_float_array("dout", dout, v.shape, {})
    dout_n = dout.transpose(1, 0, 2)                                      # (N, T, Dv)
    dv = (attn.transpose(0, 2, 1) @ dout_n).transpose(1, 0, 2)
    dattn = dout_n @ v.transpose(1, 2, 0)                                 # (N, T, T)
    dscores = attn * (dattn - np.sum(attn * dattn, axis=-1, keepdims=True)) / math.sqrt(q.shape[-1])
    dq = (dscores @ k.transpose(1, 0, 2)).transpose(1, 0, 2)
    dk = (dscores.transpose(0, 2, 1) @ q.transpose(1, 0, 2)).transpose(1, 0, 2)
    D = x.shape[-1]
    flat_x = x.reshape(-1, D)
    dparams = {name: g.reshape(-1, g.shape[-1]).T @ flat_x
               for name, g in (("W_q", dq), ("W_k", dk), ("W_v", dv))}
    dx = dq @ params["W_q"] + dk @ params["W_k"] + dv @ params["W_v"]
    return dx, dparams
