"""The course's training loop: mini-batches, optional norm clipping, progress, history."""
import numpy as np

from ..optim import clip_grad_norm, global_norm
from .progress import Progress


def train(model, batch_fn, loss_fn, optimizer, steps, *, clip_norm=None, eval_fn=None,
          eval_every=None, description="training", progress=True):
    """Train ``model`` for ``steps`` updates and return the history.

    model: anything with ``params`` (dict), ``forward(x) -> outputs, cache, state`` and
    ``backward(doutputs, cache) -> grads`` (e.g. models.SequenceModel).
    batch_fn(step) -> (x, y); loss_fn(outputs, y) -> (loss, doutputs).
    eval_fn(model) -> dict of metrics, called every ``eval_every`` steps and at the end.
    Training stops early if the loss becomes NaN or infinite (history["diverged_at"]).

    Returns a dict of lists: "step", "loss", "grad_norm" (before clipping), and with
    eval_fn "eval_step" plus one list per metric.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps should be a positive int, but got {steps!r}")
    if eval_fn is not None and eval_every is None:
        eval_every = max(1, steps // 10)
    history = {"step": [], "loss": [], "grad_norm": []}
    if eval_fn is not None:
        history["eval_step"] = []
    with Progress(steps, description, enabled=progress) as bar:
        for step in range(steps):
            x, y = batch_fn(step)
            outputs, cache, _ = model.forward(x)
            loss, doutputs = loss_fn(outputs, y)
            if not np.isfinite(loss):
                history["diverged_at"] = step
                bar.update(0, loss=float(loss), status="diverged")
                break
            grads = model.backward(doutputs, cache)
            if clip_norm is not None:
                grads, norm = clip_grad_norm(grads, clip_norm)
            else:
                norm = global_norm(grads)
            optimizer.step(model.params, grads)
            history["step"].append(step)
            history["loss"].append(float(loss))
            history["grad_norm"].append(norm)
            metrics = {}
            if eval_fn is not None and ((step + 1) % eval_every == 0 or step == steps - 1):
                metrics = eval_fn(model)
                history["eval_step"].append(step)
                for name, value in metrics.items():
                    history.setdefault(name, []).append(value)
            bar.update(1, loss=float(loss), **metrics)
    return history
