"""Encoder-decoder (sequence to sequence) with GRUs, with or without attention.

Encoder: a bidirectional GRU reads the one-hot source characters; at position j its
state is h_j = [forward state; backward state] (He = 2 H_enc values). Each sequence is
reversed within its own length for the backward GRU, so padding never reaches a real
state. The *summary* of the source is [last forward state; last backward state].

With ``self_attention=True`` one layer of scaled dot-product self-attention (padding
masked) runs over the encoder states, with a residual connection:
h_j <- h_j + sum_k attn_jk W_v h_k, so every state can gather from the whole input in one
step (the building block of the Transformer). The summary stays the GRUs' last states.

Decoder: a GRU with state s_t (Hd values), started at s_0 = tanh(W_init summary + b_init).
At step t it receives the previous output character y_{t-1} (the start token at t = 1)
and a context vector c_t, and predicts y_t from [s_t; c_t]::

    c_t     = attention(s_{t-1}, h_1..h_S)       with attention
    c_t     = summary                            without: one fixed-size vector
    s_t     = GRU([onehot(y_{t-1}); c_t], s_{t-1})
    logits  = V_out [s_t; c_t] + c_out

Training uses teacher forcing (the true y_{t-1} is fed); prediction feeds back the
model's own outputs (``greedy_decode``, ``beam_search``) until the end token.

Shapes are time-major: src (S, N) ids with src_mask (S, N) (True on real characters,
the real characters first), dec_in (L, N) ids; logits (L, N, K).
"""
from typing import NamedTuple

import numpy as np

from ..attention import (PARAM_SPECS, additive_keys, additive_keys_backward, attention_backward, attention_forward,
                         self_attention_backward, self_attention_forward)
from ..tasks.dates import encode_sources
from ..gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .initialisation import scaled_normal
from ..rnn import log_softmax, softmax_cross_entropy
from ..validation import as_bool_array, as_int_array


class Seq2SeqCache(NamedTuple):
    src_mask: np.ndarray
    lengths: np.ndarray
    reverse: np.ndarray        # (S, N) index of the length-wise reversal
    enc_caches: tuple          # gru caches of the forward (and backward) encoder
    self_cache: object         # self-attention cache over the encoder states, or None
    h: np.ndarray              # (S, N, He) the encoder states the decoder attends over
    summary: np.ndarray        # (N, He)
    s0: np.ndarray             # (N, Hd)
    step_caches: list          # per decoder step: (gru step cache, attention cache or None)
    features: np.ndarray       # (L, N, Hd + He) = [s_t; c_t]


def reverse_index(lengths, S):
    """(S, N) indices that reverse every column within its length and keep the padding.

    ``np.take_along_axis(x, idx[..., None], axis=0)`` reverses x (S, N, D); applying it
    twice gives x back.
    """
    t = np.arange(S)[:, None]
    return np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)


class Seq2Seq:
    """GRU encoder-decoder for token sequences.

    Seq2Seq(src_vocab_size, tgt_vocab_size, enc_hidden=32, dec_hidden=64, *,
            attention="additive" | "dot" | "scaled_dot" | "general" | "cosine" | None,
            attention_size=32 (additive; also the query/key size Dk of self-attention),
            self_attention=False, start_id=1, end_id=2, pad_id=0,
            bidirectional=True, rng=None (default seed 0), dtype=np.float64)

    ``forward(x)`` with x = (src, src_mask, dec_in) returns logits (L, N, K), a cache and
    None (no carried state), and ``backward(dlogits, cache)`` the gradient dict, so the
    model trains with ``rnn_helpers.training.train``.
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, enc_hidden=32, dec_hidden=64, *,
                 attention="additive", attention_size=32, self_attention=False, start_id=1, end_id=2,
                 pad_id=0, bidirectional=True, rng=None, dtype=np.float64):
        if attention is not None and attention not in PARAM_SPECS:
            raise ValueError(f"attention should be None or one of {sorted(PARAM_SPECS)}, but got {attention!r}")
        rng = np.random.default_rng(0) if rng is None else rng
        self.attention, self.bidirectional = attention, bidirectional
        self.self_attention = bool(self_attention)
        self.start_id, self.end_id, self.pad_id = start_id, end_id, pad_id
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        H, Hd, K = enc_hidden, dec_hidden, tgt_vocab_size
        He = 2 * H if bidirectional else H
        if attention in ("dot", "scaled_dot", "cosine") and Hd != He:
            raise ValueError(f"the {attention!r} score needs dec_hidden = {He} (the encoder state size), "
                             f"but got dec_hidden = {Hd}")
        self.enc_hidden, self.dec_hidden, self.enc_size = H, Hd, He
        p = {}
        for d in ("f", "r") if bidirectional else ("f",):
            # One-hot inputs: each column of U is the embedding of one character.
            p[f"enc_{d}_U"] = rng.normal(0.0, 0.5, size=(3 * H, src_vocab_size))
            p[f"enc_{d}_W"] = scaled_normal((3 * H, H), rng)
            p[f"enc_{d}_b"] = np.zeros(3 * H)
        p["init_W"] = scaled_normal((Hd, He), rng)
        p["init_b"] = np.zeros(Hd)
        p["dec_U"] = np.concatenate([rng.normal(0.0, 0.5, size=(3 * Hd, K)),
                                     scaled_normal((3 * Hd, He), rng)], axis=1)
        p["dec_W"] = scaled_normal((3 * Hd, Hd), rng)
        p["dec_b"] = np.zeros(3 * Hd)
        if attention == "general":
            p["att_W_a"] = scaled_normal((Hd, He), rng)
        elif attention == "additive":
            A = attention_size
            p["att_W_s"] = scaled_normal((A, Hd), rng)
            p["att_W_h"] = scaled_normal((A, He), rng)
            p["att_v"] = scaled_normal((A,), rng, fan_in=A)
        if self.self_attention:
            p["self_W_q"] = scaled_normal((attention_size, He), rng)
            p["self_W_k"] = scaled_normal((attention_size, He), rng)
            p["self_W_v"] = scaled_normal((He, He), rng)
        p["out_V"] = scaled_normal((K, Hd + He), rng)
        p["out_c"] = np.zeros(K)
        self.params = {k: v.astype(dtype) for k, v in p.items()}

    # ------------------------------------------------------------------ encoder
    def _check_source(self, src, src_mask):
        dims = {}
        src = as_int_array("src", src, ("S", "N"), dims)
        src_mask = as_bool_array("src_mask", src_mask, ("S", "N"), dims)
        lengths = src_mask.sum(axis=0)
        if np.any(lengths == 0) or np.any(src_mask != (np.arange(len(src))[:, None] < lengths)):
            raise ValueError("src_mask should mark the real tokens of every column first (True...True "
                             "False...False) with at least one True per column")
        if src.min() < 0 or src.max() >= self.src_vocab_size:
            raise ValueError(f"src should hold ids in [0, {self.src_vocab_size - 1}], "
                             f"but got values from {src.min()} to {src.max()}")
        return src, src_mask, lengths

    def _onehot(self, ids, size):
        return np.eye(size, dtype=self.params["out_V"].dtype)[ids]

    def encode(self, src, src_mask):
        """Encoder states h (S, N, He), summary (N, He), the GRU caches, lengths, reversal index
        and the self-attention cache (None without self-attention)."""
        src, src_mask, lengths = self._check_source(src, src_mask)
        p, H = self.params, self.enc_hidden
        S, N = src.shape
        x = self._onehot(src, self.src_vocab_size)
        h0 = np.zeros((N, H), dtype=x.dtype)
        cols = np.arange(N)
        hs_f, cache_f = gru_forward(x, h0, p["enc_f_U"], p["enc_f_W"], p["enc_f_b"])
        rev = reverse_index(lengths, S)
        if self.bidirectional:
            x_r = self._onehot(np.take_along_axis(src, rev, axis=0), self.src_vocab_size)
            hs_r, cache_r = gru_forward(x_r, h0, p["enc_r_U"], p["enc_r_W"], p["enc_r_b"])
            hs_r = np.take_along_axis(hs_r, rev[..., None], axis=0)
            h = np.concatenate([hs_f, hs_r], axis=-1)
            summary = np.concatenate([hs_f[lengths - 1, cols], hs_r[0]], axis=-1)
            caches = (cache_f, cache_r)
        else:
            h, summary, caches = hs_f, hs_f[lengths - 1, cols], (cache_f,)
        self_cache = None
        if self.self_attention:
            out, _, self_cache = self_attention_forward(h, self._params_with_prefix("self_"), src_mask)
            h = h + out
        return h, summary, caches, lengths, rev, self_cache

    def self_attention_weights(self, src, src_mask):
        """The self-attention weights (N, S, S) over the encoder states (needs self_attention=True)."""
        if not self.self_attention:
            raise ValueError("self_attention_weights needs a model built with self_attention=True")
        return self.encode(src, src_mask)[5].attn

    def _encode_backward(self, dh, dsummary, cache, grads):
        H = self.enc_hidden
        if cache.self_cache is not None:
            dx, dparams = self_attention_backward(dh, cache.self_cache)
            dh = dh + dx
            for k, g in dparams.items():
                grads["self_" + k] = g
        N = dh.shape[1]
        cols = np.arange(N)
        dhs_f = dh[..., :H].copy()
        dhs_f[cache.lengths - 1, cols] += dsummary[:, :H]
        _, _, grads["enc_f_U"], grads["enc_f_W"], grads["enc_f_b"] = gru_backward(dhs_f, cache.enc_caches[0])
        if self.bidirectional:
            dhs_r = dh[..., H:].copy()
            dhs_r[0] += dsummary[:, H:]
            dhs_r = np.take_along_axis(dhs_r, cache.reverse[..., None], axis=0)
            _, _, grads["enc_r_U"], grads["enc_r_W"], grads["enc_r_b"] = gru_backward(dhs_r, cache.enc_caches[1])

    # ------------------------------------------------------------------ decoder
    def initial_state(self, summary):
        """s_0 = tanh(W_init summary + b_init), (N, Hd)."""
        return np.tanh(summary @ self.params["init_W"].T + self.params["init_b"])

    def _params_with_prefix(self, prefix):
        return {k[len(prefix):]: v for k, v in self.params.items() if k.startswith(prefix)}

    def attention_keys(self, h):
        """For the additive score, the keys h W_h^T (S, N, A) that every decoder step reuses; else None."""
        return additive_keys(h, self.params["att_W_h"]) if self.attention == "additive" else None

    def decoder_step(self, prev, s, h, summary, src_mask, keys=None):
        """One decoder step from previous tokens prev (N,) and state s (N, Hd).

        keys: ``attention_keys(h)``, computed once for all steps (None: computed here).
        Returns logits (N, K), the new state (N, Hd), alpha (N, S) or None, and caches.
        """
        p = self.params
        if self.attention is None:
            c, alpha, att_cache = summary, None, None
        else:
            keys = self.attention_keys(h) if keys is None else keys
            c, alpha, att_cache = attention_forward(s, h, self.attention, self._params_with_prefix("att_"), src_mask,
                                                    keys=keys)
        x_t = np.concatenate([self._onehot(prev, self.tgt_vocab_size), c], axis=1)
        s_new, gru_cache = gru_step_forward(x_t, s, p["dec_U"], p["dec_W"], p["dec_b"])
        features = np.concatenate([s_new, c], axis=1)
        logits = features @ p["out_V"].T + p["out_c"]
        return logits, s_new, alpha, (gru_cache, att_cache, features)

    def forward(self, x):
        """Teacher-forced pass: x = (src, src_mask, dec_in) -> logits (L, N, K), cache, None."""
        src, src_mask, dec_in = x
        h, summary, enc_caches, lengths, rev, self_cache = self.encode(src, src_mask)
        dec_in = as_int_array("dec_in", dec_in, (None, src.shape[1]), {})
        s = s0 = self.initial_state(summary)
        keys = self.attention_keys(h)
        logits, step_caches, features = [], [], []
        for t in range(dec_in.shape[0]):
            logit, s, _, (gru_cache, att_cache, feat) = self.decoder_step(dec_in[t], s, h, summary, src_mask, keys)
            logits.append(logit)
            step_caches.append((gru_cache, att_cache))
            features.append(feat)
        cache = Seq2SeqCache(src_mask, lengths, rev, enc_caches, self_cache, h, summary, s0, step_caches,
                             np.stack(features))
        return np.stack(logits), cache, None

    def backward(self, dlogits, cache):
        """Gradients of every parameter (dict with the keys of params) given dlogits (L, N, K)."""
        p = self.params
        Hd, K = self.dec_hidden, self.tgt_vocab_size
        L, N, F = cache.features.shape
        grads = {k: np.zeros_like(v) for k, v in p.items()}
        grads["out_V"] = dlogits.reshape(L * N, K).T @ cache.features.reshape(L * N, F)
        grads["out_c"] = dlogits.sum(axis=(0, 1))
        dfeatures = dlogits @ p["out_V"]
        S = cache.src_mask.shape[0]
        dh = np.zeros((S, N, self.enc_size), dtype=dfeatures.dtype)
        dsummary = np.zeros((N, self.enc_size), dtype=dfeatures.dtype)
        ds = np.zeros((N, Hd), dtype=dfeatures.dtype)
        dkeys = 0.0                # additive score: the keys' gradient, summed over the steps
        for t in reversed(range(L)):
            gru_cache, att_cache = cache.step_caches[t]
            dx_t, ds, dU, dW, db = gru_step_backward(dfeatures[t, :, :Hd] + ds, gru_cache)
            grads["dec_U"] += dU
            grads["dec_W"] += dW
            grads["dec_b"] += db
            dc = dfeatures[t, :, Hd:] + dx_t[:, K:]
            if att_cache is None:
                dsummary += dc
            else:
                ds_att, dh_t, dparams = attention_backward(dc, att_cache)
                ds = ds + ds_att
                dh += dh_t
                dkeys = dkeys + dparams.pop("keys", 0.0)
                for k, g in dparams.items():
                    grads["att_" + k] += g
        if self.attention == "additive":
            dh_keys, grads["att_W_h"] = additive_keys_backward(dkeys, cache.h, p["att_W_h"])
            dh += dh_keys
        da0 = ds * (1.0 - cache.s0 ** 2)
        grads["init_W"] = da0.T @ cache.summary
        grads["init_b"] = da0.sum(axis=0)
        dsummary += da0 @ p["init_W"]
        self._encode_backward(dh, dsummary, cache, grads)
        return grads

    # ---------------------------------------------------------------- decoding
    def greedy_decode(self, src, src_mask, max_len=20):
        """Free-running decoding of a batch, feeding back the most likely token.

        Returns tokens (N, L) (after a sequence's end token: pad_id) and the attention
        weights alphas (L, N, S) (None without attention). Stops when every sequence has
        produced the end token, or after max_len steps.
        """
        h, summary = self.encode(src, src_mask)[:2]
        N = h.shape[1]
        s = self.initial_state(summary)
        keys = self.attention_keys(h)
        prev = np.full(N, self.start_id)
        done = np.zeros(N, dtype=bool)
        tokens, alphas = [], []
        for _ in range(max_len):
            logits, s, alpha, _ = self.decoder_step(prev, s, h, summary, src_mask, keys)
            tok = np.where(done, self.pad_id, logits.argmax(axis=1))
            tokens.append(tok)
            alphas.append(alpha)
            done |= tok == self.end_id
            if done.all():
                break
            prev = np.where(done, self.end_id, tok)
        alphas = None if self.attention is None else np.stack(alphas)
        return np.stack(tokens, axis=1), alphas

    def step_function(self, src_ids):
        """For one source sequence (list of ids): (step_fn, s_0) for greedy_search/beam_search.

        step_fn(prev_token, state) -> (log_probs (K,), new_state), state = s (1, Hd).
        """
        src = np.asarray(src_ids, dtype=np.int64)[:, None]
        mask = np.ones(src.shape, dtype=bool)
        h, summary = self.encode(src, mask)[:2]
        keys = self.attention_keys(h)

        def step_fn(prev, state):
            logits, s_new, _, _ = self.decoder_step(np.array([prev]), state, h, summary, mask, keys)
            return log_softmax(logits[0]), s_new

        return step_fn, self.initial_state(summary)


def sequence_loss(logits, y):
    """loss_fn for training.train: y = (dec_out (L, N), dec_mask (L, N)) -> (loss, dlogits).

    The masked cross-entropy of teacher-forced logits, summed over decoder steps and
    averaged over the batch.
    """
    targets, mask = y
    return softmax_cross_entropy(logits, targets, mask)


def greedy_search(step_fn, state, start_id, end_id, max_len):
    """Most likely next token at every step, for one sequence.

    step_fn(prev_token, state) -> (log_probs (K,), new_state). Returns (tokens, log_prob):
    the chosen tokens (ending with end_id if it was produced within max_len steps) and
    the sum of their log-probabilities.
    """
    tokens, total, prev = [], 0.0, start_id
    for _ in range(max_len):
        log_probs, state = step_fn(prev, state)
        prev = int(np.argmax(log_probs))
        total += float(log_probs[prev])
        tokens.append(prev)
        if prev == end_id:
            break
    return tokens, total


def beam_search(step_fn, state, start_id, end_id, beam_width, max_len, length_penalty=0.0):
    """Beam search for one sequence: keep the beam_width best partial sequences.

    At each step every live hypothesis is extended by every token; the beam_width best
    extensions (by total log-probability; all live hypotheses have the same length) are
    kept; those ending in end_id are finished and leave the beam (it shrinks). Finished
    hypotheses are ranked by ``log_prob / len(tokens) ** length_penalty`` (0: the plain
    total, which favours short outputs since every token adds a negative term; 1: the mean
    log-probability per token). The search stops when the beam is empty or after max_len
    steps; with length_penalty 0 also as soon as the best finished hypothesis beats every
    live one (totals only decrease). Returns (tokens, log_prob) of the best finished
    hypothesis, or of the best live one if none finished (then tokens[-1] != end_id).
    """
    if isinstance(beam_width, bool) or not isinstance(beam_width, (int, np.integer)) or beam_width < 1:
        raise ValueError(f"beam_width should be a positive integer, but got {beam_width!r}")
    if not np.isfinite(length_penalty) or length_penalty < 0:
        raise ValueError(f"length_penalty should be a non-negative number, but got {length_penalty!r}")
    beams = [(0.0, [], state)]
    finished = []
    for _ in range(max_len):
        candidates = []
        for score, tokens, st in beams:
            log_probs, new_state = step_fn(tokens[-1] if tokens else start_id, st)
            for k in np.argsort(-log_probs, kind="stable")[:beam_width]:
                candidates.append((score + float(log_probs[k]), tokens + [int(k)], new_state))
        candidates.sort(key=lambda c: -c[0])
        beams = []
        for cand in candidates[:beam_width]:
            (finished if cand[1][-1] == end_id else beams).append(cand)
        if not beams or (length_penalty == 0 and finished and max(f[0] for f in finished) >= beams[0][0]):
            break
    best = max(finished or beams, key=lambda c: c[0] / len(c[1]) ** length_penalty)
    return best[1], best[0]


def predict(model, sources, src_vocab, tgt_vocab, max_len=20):
    """Greedy predictions for a list of strings: (list of strings, alphas (L, N, S) or None)."""
    src, mask = encode_sources(sources, src_vocab)
    tokens, alphas = model.greedy_decode(src, mask, max_len)
    return [tgt_vocab.decode(row) for row in tokens], alphas

