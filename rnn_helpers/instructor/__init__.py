"""The instructor's side: generating student versions and grading a class.

``release`` makes ``notebooks/`` from ``solutions/`` (and registers assignments in the
gradebook before nbgrader grades); ``grade_class`` checks the grader, imports, autogrades,
writes feedback and exports grades; ``workers`` executes submissions in worker processes
or on a Dask cluster for it; ``autograding`` and ``integrity`` are the nbgrader
extensions that survive hostile submissions; ``sandbox`` isolates a submission's kernel and
``limits`` says what it may use; ``student_files`` moves students' files without following a
link, and ``exchange`` is the course's nbgrader collect (only what the student's own account
uploaded) and feedback release; ``privacy`` checks the course folder, the students' homes and
the exchange;
``demo_class`` runs the whole path on a simulated class.
"""
