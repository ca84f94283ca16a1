"""Figures, experiments and widgets that single lessons use.

Each module belongs to the notebook that teaches its idea: computational graphs and the LSTM
diagram, gradient-decay experiments and their explorer, the loss cliff, leaky units, skip
connections, truncated BPTT and the attention explorer. Some exercises are checked against
them: ``grading.load_reference("lessons.leaky_units")``.
"""
