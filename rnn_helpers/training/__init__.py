"""Models built from the reference layers, and what it takes to train and sample them.

Weight initialisations, the recurrent layer with a read-out (``sequence_model``), the
encoder-decoder (``seq2seq``), regression losses, the training loop, its progress display
and sampling with a temperature.
"""
