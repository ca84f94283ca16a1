"""Check notebook 10's Exercise 4 (PyTorch's GRU cell in numpy) and name the likely mistake.

``counting_products`` counts the matrix products a student's step takes with each weight
matrix (the exercise asks for one each); ``expected_torch_gru_step`` is PyTorch's documented
GRU step and, with ``variant``, the typical wrong ones; ``gru_step_hint`` names the mistake a
wrong result matches. They live here rather than in the test cells so that the student
version of the notebook shows no answer, right or wrong.
"""
import numpy as np

PRODUCTS = (np.dot, np.matmul, np.einsum, np.tensordot, np.inner, np.outer, np.vdot)


def counting_products(*arrays):
    """(views of the arrays, counter): counter[0] counts the matrix products that any of the
    views, or a block, a transpose or an elementwise result of them, takes part in."""
    counter = [0]

    class Counted(np.ndarray):
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            counter[0] += ufunc is np.matmul
            result = getattr(ufunc, method)(*(np.asarray(a) if isinstance(a, Counted) else a for a in inputs),
                                            **kwargs)
            keep = ufunc is not np.matmul and isinstance(result, np.ndarray)
            return result.view(Counted) if keep else result

        def __array_function__(self, func, types, args, kwargs):
            if func in PRODUCTS:
                counter[0] += 1
                return func(*(np.asarray(a) if isinstance(a, Counted) else a for a in args), **kwargs)
            return super().__array_function__(func, types, args, kwargs)

        def dot(self, other, out=None):
            counter[0] += 1
            return np.asarray(self).dot(np.asarray(other), out)

    return [array.view(Counted) for array in arrays], counter


def expected_torch_gru_step(x, h, p, variant="pytorch"):
    """PyTorch's documented GRU equations, one block at a time; other variants are known mistakes."""
    H = h.shape[1]
    s = lambda a: 1 / (1 + np.exp(-a))
    w_i, w_h, b_i, b_h = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"]
    block = lambda k: slice(k * H, (k + 1) * H)
    gate = lambda k, hk: x @ w_i[block(k)].T + b_i[block(k)] + hk @ w_h[block(k)].T + b_h[block(k)]
    first, second = (1, 0) if variant == "r and z blocks swapped" else (0, 1)
    r, z = s(gate(first, h)), s(gate(second, h))
    if variant == "reset before the matmul":
        n = np.tanh(x @ w_i[block(2)].T + b_i[block(2)] + (r * h) @ w_h[block(2)].T + b_h[block(2)])
    elif variant == "b_hn outside the reset product":
        n = np.tanh(x @ w_i[block(2)].T + b_i[block(2)] + r * (h @ w_h[block(2)].T) + b_h[block(2)])
    else:
        n = np.tanh(x @ w_i[block(2)].T + b_i[block(2)] + r * (h @ w_h[block(2)].T + b_h[block(2)]))
    if variant == "z on the new candidate":
        return z * n + (1 - z) * h
    return (1 - z) * n + z * h


MISTAKES = {
    "z on the new candidate": "your step mixes the states the course's way, z' * n + (1 - z') * h_prev; "
                              "in PyTorch's GRU z' is the share of the OLD state",
    "reset before the matmul": "your candidate resets the state before the product with W_hn (the course's "
                               "GRU); PyTorch's resets the product's result, bias b_hn included",
    "b_hn outside the reset product": "your candidate adds b_hn outside the reset product; in PyTorch's GRU "
                                      "the reset gate multiplies it too",
    "r and z blocks swapped": "your r and z gates are swapped: the blocks are stacked r, z, n, so r is rows :H "
                              "and z rows H:2*H",
}


def gru_step_hint(got, x, h, p):
    """The known mistake that explains got (if exactly one does), else what to compare with."""
    matches = [hint for variant, hint in MISTAKES.items()
               if np.shape(got) == h.shape
               and np.allclose(got, expected_torch_gru_step(x, h, p, variant), rtol=1e-6, atol=1e-8)]
    if len(matches) == 1:
        return matches[0]
    return "compare each block with the right-hand column of the table in section 4"
