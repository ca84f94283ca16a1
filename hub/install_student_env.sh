#!/usr/bin/env bash
# The students' shared environment on a JupyterHub machine (see hub/README.md):
#   sudo hub/install_student_env.sh /opt/rnn-course [PYTHON]
# PYTHON (default python3) must be readable by every account: a system Python, not one in a
# private home. The course is installed as a regular package (copied, not an editable link
# into the instructor's folder), with the students' nbgrader configuration (exchange, course
# id) and a JupyterLab without nbgrader's instructor tools.
set -euo pipefail
env_dir=${1:?usage: install_student_env.sh ENV_DIR [PYTHON]}
python=${2:-python3}
hub=$(cd "$(dirname "$0")" && pwd)
course=$(dirname "$hub")
"$python" -m venv "$env_dir"
"$env_dir/bin/python" -m pip install --quiet --upgrade pip
# Built from a copy, so that the build leaves nothing in the course folder.
package=$(mktemp -d)
trap 'rm -rf "$package"' EXIT
cp -r "$course/pyproject.toml" "$course/README.md" "$course/rnn_helpers" "$package/"
"$env_dir/bin/python" -m pip install --quiet "$package" jupyterhub
mkdir -p "$env_dir/etc/jupyter/labconfig"
cp "$hub/student/nbgrader_config.py" "$env_dir/etc/jupyter/nbgrader_config.py"
cp "$hub/student_lab/labconfig/page_config.json" "$env_dir/etc/jupyter/labconfig/page_config.json"
chmod -R a+rX,go-w "$env_dir"
echo "student environment ready in $env_dir: spawn the students' servers with $env_dir/bin/jupyterhub-singleuser"
