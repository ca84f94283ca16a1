#!/usr/bin/env bash
# The students' shared environment on a JupyterHub machine, and private homes (see hub/README.md):
#   sudo hub/install_student_env.sh /opt/rnn-course [PYTHON] [--homes DIR] [--hub-group GROUP] [--etc DIR] [--sealed [--open-through NN]]
# PYTHON (default python3) must be readable by every account: a system Python, not one in a
# private home. The course is installed as a regular package (copied, not an editable link
# into the instructor's folder), with the students' nbgrader configuration (exchange, course
# id) and a JupyterLab without nbgrader's instructor tools.
# First every account's home is made private: each home in DIR (default /home) of an account
# from UID_MIN up becomes 0700 (0750 with group GROUP when --hub-group is given, for a hub
# whose service must read homes), new homes are made private (HOME_MODE in login.defs for
# useradd, DIR_MODE in adduser.conf for adduser), and the environment's bin/ is put on every
# login shell's PATH (profile.d/rnn-course.sh); --etc (default /etc) is where those files live.
# Then the environment is built. With --sealed (a course graded for credit), the package is
# installed without the reference implementations of the graded functions
# (rnn_helpers/instructor/sealing.py); the instructor's environment keeps them. With
# --open-through NN the exercises of notebooks 01..NN (chapters already due, whose functions
# later chapters train with) stay whole: reinstall with the new NN when you release a chapter.
set -euo pipefail
usage="usage: install_student_env.sh ENV_DIR [PYTHON] [--homes DIR] [--hub-group GROUP] [--etc DIR] [--sealed [--open-through NN]]"
positional=()
homes=/home
hub_group=
etc=/etc
sealed=
open_through=
while [ $# -gt 0 ]; do
    case "$1" in
        --homes) homes=${2:?$usage}; shift 2 ;;
        --hub-group) hub_group=${2:?$usage}; shift 2 ;;
        --etc) etc=${2:?$usage}; shift 2 ;;
        --sealed) sealed=1; shift ;;
        --open-through) open_through=${2:?$usage}; shift 2 ;;
        -*) echo "$usage" >&2; exit 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
env_dir=${positional[0]:?$usage}
if [ -n "$open_through" ] && [ -z "$sealed" ]; then echo "--open-through needs --sealed" >&2; exit 2; fi
python=${positional[1]:-python3}
hub=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$env_dir"
env_dir=$(cd "$env_dir" && pwd)
course=$(dirname "$hub")
# Private homes: nobody lists or reads another account's fetched notebooks, work or feedback.
home_mode=0700
[ -n "$hub_group" ] && home_mode=0750
uid_min=$(awk '$1 == "UID_MIN" {print $2}' "$etc/login.defs" 2>/dev/null || true)
uid_min=${uid_min:-1000}
homes=$(cd "$homes" && pwd)
closed=0
while IFS=: read -r name _ uid _ _ home _; do
    [ "$uid" -ge "$uid_min" ] && [ "$name" != nobody ] || continue
    case "$home" in "$homes"/*) ;; *) continue ;; esac
    [ -d "$home" ] && [ ! -L "$home" ] || continue
    [ -n "$hub_group" ] && chgrp "$hub_group" "$home"
    chmod "$home_mode" "$home"
    closed=$((closed + 1))
done < <(getent passwd)
echo "homes: $closed home(s) in $homes are now $home_mode$([ -n "$hub_group" ] && echo " (group $hub_group)")"
# New homes: useradd reads HOME_MODE (login.defs), adduser DIR_MODE (adduser.conf).
set_setting() {  # file, key, separator, value: replace the key's line, or add one
    local file=$1 key=$2 sep=$3 value=$4
    [ -f "$file" ] || return 0
    if grep -Eq "^[#[:space:]]*$key\b" "$file"; then
        sed -i -E "s|^[#[:space:]]*$key\b.*|$key$sep$value|" "$file"
    else
        printf '%s%s%s\n' "$key" "$sep" "$value" >> "$file"
    fi
    echo "new homes: $key=$value in $file"
}
set_setting "$etc/login.defs" HOME_MODE "		" "$home_mode"
set_setting "$etc/adduser.conf" DIR_MODE "=" "$home_mode"
# The environment's commands (nbgrader, jupyter, python) on every login shell's PATH;
# hub/jupyterhub_config.py puts them on the PATH of the students' servers.
mkdir -p "$etc/profile.d"
cat > "$etc/profile.d/rnn-course.sh" <<EOF
# The RNN course's student environment (hub/install_student_env.sh).
case ":\$PATH:" in
    *":$env_dir/bin:"*) ;;
    *) PATH="$env_dir/bin:\$PATH"; export PATH ;;
esac
EOF
chmod 0644 "$etc/profile.d/rnn-course.sh"
echo "PATH: $etc/profile.d/rnn-course.sh puts $env_dir/bin first on login shells' PATH"

# The environment.
"$python" -m venv "$env_dir"
"$env_dir/bin/python" -m pip install --quiet --upgrade pip
# Built from a copy, so that the build leaves nothing in the course folder; with --sealed, a
# copy whose graded reference functions are stubs (sealing.py runs as a script: stdlib only).
package=$(mktemp -d)
trap 'rm -rf "$package"' EXIT
if [ -n "$sealed" ]; then
    "$python" "$course/rnn_helpers/instructor/sealing.py" "$package" ${open_through:+--open-through "$open_through"}
else
    cp -r "$course/pyproject.toml" "$course/README.md" "$course/rnn_helpers" "$package/"
fi
# A rerun replaces the course (pip keeps an installed package of the same version).
"$env_dir/bin/python" -m pip uninstall --quiet --yes rnn-course 2>/dev/null || true
"$env_dir/bin/python" -m pip install --quiet "$package" jupyterhub
mkdir -p "$env_dir/etc/jupyter/labconfig"
cp "$hub/student/nbgrader_config.py" "$env_dir/etc/jupyter/nbgrader_config.py"
cp "$hub/student_lab/labconfig/page_config.json" "$env_dir/etc/jupyter/labconfig/page_config.json"
# The instructor's pages are off in the students' servers too, not only hidden (/formgrader: 404).
cp "$hub/student_lab/jupyter_server_config.json" "$env_dir/etc/jupyter/jupyter_server_config.json"
chmod -R a+rX,go-w "$env_dir"
echo "$([ -n "$sealed" ] && echo "sealed ")student environment ready in $env_dir: spawn the students' servers with $env_dir/bin/jupyterhub-singleuser"
# The homes checked by the course's own privacy check (the one the instructor runs): what is
# still open (a home of a system account, a group shared with other accounts) is listed with
# the command that closes it.
"$env_dir/bin/python" -c 'import sys; from rnn_helpers.instructor.privacy import check_homes; print(check_homes(sys.argv[1], sys.argv[2] or None))' "$homes" "$hub_group"
