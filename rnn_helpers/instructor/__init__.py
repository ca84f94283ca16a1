"""The instructor's side: generating student versions and grading a class.

``release`` makes ``notebooks/`` from ``solutions/``; ``grade_class`` imports, autogrades,
writes feedback and exports grades; ``autograding`` and ``integrity`` are the nbgrader
extensions that survive hostile submissions; ``sandbox`` isolates a submission's kernel;
``demo_class`` runs the whole path on a simulated class.
"""
