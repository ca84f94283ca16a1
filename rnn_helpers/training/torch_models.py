"""The course's two trained models in PyTorch, and a training loop (notebook 10).

* ``AddingLSTM``: ``nn.LSTM`` + a linear read-out of the last state, the twin of
  ``SequenceModel("lstm", D, H, 1, readout="last_step")`` (same function, same weights
  after ``load_sequence_model``).
* ``DateSeq2Seq``: the twin of ``seq2seq.Seq2Seq(attention="additive")`` with the same sizes:
  a bidirectional GRU encoder over one-hot characters that skips the padding
  (``pack_padded_sequence``), a GRU decoder fed with [previous character; context] and
  additive attention. torch's GRU resets after the matmul (see ``torch_bridge``), so the
  two date models are different functions with the same structure.
* ``train_step`` / ``train``: zero the gradients, loss, backward, ``clip_grad_norm_``, an
  optimiser step; ``train`` repeats it with a progress display and times it.

Tensors are time-major, as everywhere in the course: x (T, N, D), src (S, N).
This module imports torch: import it only where torch is installed.
"""
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .progress import Progress


def default_device():
    """The GPU if torch sees one, else the CPU: the same code runs on both."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class AddingLSTM(nn.Module):
    """LSTM layer + linear read-out of the last hidden state: x (T, N, D) -> (N, 1)."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size)
        self.readout = nn.Linear(hidden_size, 1)

    def forward(self, x):
        hs, _ = self.lstm(x)                 # (T, N, H); h0 = c0 = 0
        return self.readout(hs[-1])


def load_sequence_model(module, params):
    """Copy a SequenceModel's params (U, W, b, V, c of an LSTM) into an AddingLSTM (in place)."""
    from ..torch_bridge import course_to_torch, load_state

    load_state(module.lstm, course_to_torch("lstm", params["U"], params["W"], params["b"]))
    load_state(module.readout, {"weight": params["V"], "bias": params["c"]})
    return module


class DateSeq2Seq(nn.Module):
    """GRU encoder-decoder with additive attention for token sequences.

    src (S, N) ids with lengths (N,) (real tokens first), dec_in (L, N) ids.
    ``forward(src, lengths, dec_in)`` gives teacher-forced logits (L, N, K);
    ``greedy_decode(src, lengths, max_len)`` the tokens (N, L') fed back step by step.
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, enc_hidden=32, dec_hidden=64,
                 attention_size=32, start_id=1, end_id=2, pad_id=0):
        super().__init__()
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.start_id, self.end_id, self.pad_id = start_id, end_id, pad_id
        He = 2 * enc_hidden
        self.encoder = nn.GRU(src_vocab_size, enc_hidden, bidirectional=True)
        self.init = nn.Linear(He, dec_hidden)                        # s_0 = tanh(init(summary))
        self.decoder = nn.GRUCell(tgt_vocab_size + He, dec_hidden)
        self.att_W_s = nn.Linear(dec_hidden, attention_size, bias=False)
        self.att_W_h = nn.Linear(He, attention_size, bias=False)
        self.att_v = nn.Linear(attention_size, 1, bias=False)
        self.out = nn.Linear(dec_hidden + He, tgt_vocab_size)

    def _onehot(self, ids, size):
        return F.one_hot(ids, size).to(self.out.weight.dtype)

    def encode(self, src, lengths):
        """Encoder states h (S, N, 2H) (zero at padding) and summary (N, 2H).

        The packed sequence makes each direction stop at its sequence's length: the
        backward GRU starts at the last real character, and h_n holds the forward state
        after the last real character and the backward state at position 0.
        """
        packed = pack_padded_sequence(self._onehot(src, self.src_vocab_size), lengths.cpu(),
                                      enforce_sorted=False)
        out, h_n = self.encoder(packed)
        h, _ = pad_packed_sequence(out, total_length=src.shape[0])
        return h, torch.cat([h_n[0], h_n[1]], dim=1)

    def _step(self, prev, s, h, keys, mask):
        """One decoder step: logits (N, K), new state (N, Hd), attention weights (S, N)."""
        scores = self.att_v(torch.tanh(keys + self.att_W_s(s))).squeeze(-1)   # (S, N)
        alpha = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=0)
        context = (alpha.unsqueeze(-1) * h).sum(dim=0)                       # (N, 2H)
        s = self.decoder(torch.cat([self._onehot(prev, self.tgt_vocab_size), context], dim=1), s)
        return self.out(torch.cat([s, context], dim=1)), s, alpha

    def _start(self, src, lengths):
        h, summary = self.encode(src, lengths)
        mask = torch.arange(src.shape[0], device=src.device)[:, None] < lengths.to(src.device)[None, :]
        return h, self.att_W_h(h), mask, torch.tanh(self.init(summary))

    def forward(self, src, lengths, dec_in):
        h, keys, mask, s = self._start(src, lengths)
        logits = []
        for t in range(dec_in.shape[0]):
            logit, s, _ = self._step(dec_in[t], s, h, keys, mask)
            logits.append(logit)
        return torch.stack(logits)

    @torch.no_grad()
    def greedy_decode(self, src, lengths, max_len):
        """Most likely token at every step, fed back; pad_id after a sequence's end token."""
        h, keys, mask, s = self._start(src, lengths)
        prev = torch.full((src.shape[1],), self.start_id, dtype=torch.long, device=src.device)
        done = torch.zeros_like(prev, dtype=torch.bool)
        tokens = []
        for _ in range(max_len):
            logit, s, _ = self._step(prev, s, h, keys, mask)
            tok = logit.argmax(dim=1).masked_fill(done, self.pad_id)
            tokens.append(tok)
            done |= tok == self.end_id
            if bool(done.all()):
                break
            prev = tok.masked_fill(done, self.end_id)
        return torch.stack(tokens, dim=1)


def sequence_loss(logits, targets, mask):
    """Cross-entropy summed over the real positions and averaged over the batch.

    logits (L, N, K), targets (L, N) ids, mask (L, N) booleans: the course's
    ``softmax_cross_entropy(logits, y, mask)`` in torch.
    """
    per_token = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")
    return (per_token * mask.flatten().to(per_token.dtype)).sum() / logits.shape[1]


def train_step(model, optimizer, loss_fn, batch, max_norm):
    """One update; returns (loss, gradient norm before clipping) as floats.

    loss_fn(model, batch) -> scalar loss tensor.
    """
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), float(norm)


def train(model, optimizer, loss_fn, batch_fn, steps, max_norm, description="training",
          progress=True):
    """``steps`` calls of train_step on batch_fn(step); history with "loss", "grad_norm", "seconds".

    "seconds" is the wall time of the whole loop (batches included), as in the course's
    numpy ``training.loop.train``.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps should be a positive int, but got {steps!r}")
    history = {"loss": [], "grad_norm": []}
    model.train()
    start = time.perf_counter()
    with Progress(steps, description, enabled=progress) as bar:
        for step in range(steps):
            loss, norm = train_step(model, optimizer, loss_fn, batch_fn(step), max_norm)
            if not np.isfinite(loss):
                history["diverged_at"] = step
                break
            history["loss"].append(loss)
            history["grad_norm"].append(norm)
            bar.update(1, loss=loss)
    history["seconds"] = time.perf_counter() - start
    model.eval()
    return history
