"""nbgrader configuration of the instructor's account on a shared JupyterHub machine.

Copy to the instructor's ``~/.jupyter/nbgrader_config.py``; the course folder keeps its own
``nbgrader_config.py`` (sources, timeouts, grading). This file adds what the exchange needs:
the course id (the same as the course's and the students') and the exchange folder, which
must exist and be writable by everyone (see hub/README.md).
"""
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rnn-course"
c.Exchange.root = os.environ.get("RNN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
