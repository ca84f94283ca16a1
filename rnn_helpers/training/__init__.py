"""Models built from the reference layers, and what it takes to train and sample them.

Weight initialisations, the recurrent layer with a read-out (``sequence_model``), the
encoder-decoder (``seq2seq``), their PyTorch twins (``torch_models``), regression losses,
the training loop, its progress display, sampling with a temperature, and the BLAS thread
pinning every notebook that trains or times starts with (``threads``).
"""
