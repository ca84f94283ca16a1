"""Reference implementations and utilities for the RNN course.

At the top: the layers of the course's API contract (``rnn``, ``lstm``, ``gru``,
``attention``, ``bidirectional``, ``deep_rnn``, ...), ``gradcheck``, ``optim``, the checks
that test cells import (``grading``) and argument ``validation``. The rest lives in
subpackages named for their role: ``tasks`` (data sets), ``training`` (models, loop,
sampling), ``lessons`` (one lesson's figures, experiments and widgets) and ``instructor``
(release and class grading).
"""
