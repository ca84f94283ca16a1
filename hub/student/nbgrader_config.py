"""nbgrader configuration of the students on a shared JupyterHub machine.

Install for every student in the shared environment's configuration folder
(``<env>/etc/jupyter/nbgrader_config.py``, which hub/install_student_env.sh does) or in
``/etc/jupyter/``. Students then fetch and submit ``rnn-course`` assignments from the
Assignments tab or with ``nbgrader fetch_assignment`` / ``nbgrader submit``.
"""
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rnn-course"
c.Exchange.root = os.environ.get("RNN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")