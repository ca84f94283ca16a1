"""JupyterHub settings for the course's students (merge into the hub's jupyterhub_config.py).

The students' servers start from the shared environment that hub/install_student_env.sh
builds (``RNN_COURSE_ENV``, default ``/opt/rnn-course``), with its ``bin/`` first on their
PATH, so that ``nbgrader``, ``jupyter`` and ``python`` in a terminal and in a notebook's
``!`` commands are the course's. Login shells get the same PATH from
``/etc/profile.d/rnn-course.sh``, which the script writes.
"""
import os

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

env_dir = os.environ.get("RNN_COURSE_ENV", "/opt/rnn-course")
c.Spawner.cmd = [os.path.join(env_dir, "bin", "jupyterhub-singleuser")]
c.Spawner.environment = {"PATH": os.pathsep.join([os.path.join(env_dir, "bin"), "/usr/local/bin", "/usr/bin", "/bin"])}
