"""Figures, experiments, widgets and feedback that single lessons use.

Each module belongs to the notebook that teaches its idea: computational graphs and the LSTM
diagram, parameter sharing, teacher forcing and the hints of 01's forward tests,
gradient-decay experiments and their explorer, the loss cliff, leaky units, skip
connections, truncated BPTT and the hints of 02's backward tests, the gradient paths of a
cell state, the n-gram baseline, the language model and the music of 07, the attention
explorer, and the checks and hints of 10's exercises (the GRU cell in ``gru_step_feedback``, the
others in ``pytorch_feedback``). ``claims`` checks the statements a notebook makes about its own results. Some
exercises are checked against these modules: ``grading.load_reference("lessons.leaky_units")``.
"""
