"""Name the likely mistake behind a wrong answer to notebook 05's parameter count (Exercise 3).

``param_count_problem`` compares a student's count of the parameters of a stacked and
possibly bidirectional recurrent network with the right one and returns a message that says
what is wrong (a second layer that reads x, a bidirectional layer counted as one cell, the
next layer's input taken as H), or None. It lives here rather than in the test cell so that
the student version of the notebook shows no answer, right or wrong.
"""
BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}


def _count(cell, D, H, layers, directions, fan_in):
    """Parameters of `layers` layers of `directions` cells, layer l > 0 reading fan_in(H)."""
    return sum(directions * BLOCKS[cell] * (size_in * H + H * H + H)
               for size_in in [D] + [fan_in(H)] * (layers - 1))


def param_count_problem(got, cell, D, H, layers, bidirectional):
    """What is wrong with ``got`` as recurrent_param_count(cell, D, H, layers, bidirectional), or None."""
    directions = 2 if bidirectional else 1
    right = _count(cell, D, H, layers, directions, lambda H: directions * H)
    if got == right:
        return None
    mistakes = [
        (_count(cell, D, H, layers, directions, lambda H: D),
         "the second layer's input is the first layer's output, not x (size D)"),
        (_count(cell, D, H, layers, directions, lambda H: H),
         "a bidirectional layer outputs both directions' states: what size is the next layer's input?"),
        (_count(cell, D, H, layers, 1, lambda H: H), "a bidirectional layer has two cells, one per direction"),
    ]
    message = next((text for wrong, text in mistakes if wrong != right and got == wrong),
                   "count layer by layer: which input does each layer read?")
    return (f"recurrent_param_count({cell!r}, D={D}, H={H}, layers={layers}, bidirectional={bidirectional}) "
            f"is {got}: {message}")
