"""Check this machine before grading: is it safe to run a class's code here?

    python -m rnn_helpers.instructor.doctor [--course DIR] [--homes /home] [--hub-group GROUP] [--exchange DIR]
                                            [--scheduler tls://host:8786 --tls DIR]

Each line says ``ok``, ``note`` (worth knowing, grading still safe) or ``PROBLEM`` with the
command that fixes it; the exit status is 1 when a problem would make grading unsafe.

* the sandbox: bubblewrap starts, and a kernel in an unshared network namespace cannot reach
  a listener on this machine's loopback;
* the limits: ``prlimit`` sets the memory, process and file-size limits a child then sees; a
  bubblewrap tmpfs with a size limit; cgroup v2 (a note either way: the sandbox uses it where
  it works and falls back to the rlimits where not);
* privacy, by the checks of ``privacy``: the course folder, the homes in ``--homes`` (no
  rights for other accounts, nor for a group with other accounts but ``--hub-group``), the
  nbgrader exchange (root sticky when writable by all, the course's folders the instructor's
  and writable by nobody else, ``inbound`` sticky and not listable by others);
* the cluster, with ``--scheduler``: TLS only, certificates private and outside the sandbox's
  view, the scheduler reached with them and closed to a certificate it did not sign, and
  every worker able to sandbox student code.
"""
import argparse
import gc
import os
import pathlib
import shutil
import socket
import subprocess
import sys
from typing import NamedTuple

from . import privacy

OK, NOTE, PROBLEM = "ok", "note", "PROBLEM"


class Finding(NamedTuple):
    status: str
    what: str
    fix: str = ""

    def __str__(self):
        return f"{self.status:8s} {self.what}" + (f"\n         fix: {self.fix}" if self.fix else "")


def _run(command, timeout=60):
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        return subprocess.CompletedProcess(command, 127, "", str(error))


def _bwrap_base(bwrap):
    return [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent"]


def check_bwrap(bwrap=None):
    bwrap = bwrap or shutil.which("bwrap")
    if bwrap is None:
        return [Finding(PROBLEM, "bubblewrap is not installed: student code would run with your rights",
                        "apt-get install bubblewrap")]
    probe = _run(_bwrap_base(bwrap) + ["true"])
    if probe.returncode != 0:
        return [Finding(PROBLEM, f"bubblewrap ({bwrap}) cannot make a sandbox here: "
                                 f"{probe.stderr.strip() or probe.returncode}",
                        "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) "
                        "or make bwrap setuid (chmod u+s " + bwrap + ")")]
    return [Finding(OK, f"bubblewrap ({bwrap}) makes a sandbox")]


_CONNECT = ("import socket, sys\n"
            "try:\n"
            "    socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3).close()\n"
            "except OSError:\n"
            "    sys.exit(0)\n"
            "sys.exit(7)\n")


def check_network(bwrap=None):
    """A process in bubblewrap's unshared network namespace cannot reach this machine's loopback."""
    bwrap = bwrap or shutil.which("bwrap")
    if bwrap is None:
        return [Finding(PROBLEM, "no network isolation without bubblewrap", "apt-get install bubblewrap")]
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        probe = _run(_bwrap_base(bwrap) + ["--unshare-net", sys.executable, "-c", _CONNECT, str(port)])
    if probe.returncode == 7:
        return [Finding(PROBLEM, "a process in bubblewrap's network namespace reached this machine's loopback: "
                                 "a graded cell could talk to local services (a Dask scheduler, databases)",
                        "check that bwrap supports --unshare-net here (bubblewrap 0.4 or newer)")]
    if probe.returncode != 0:
        return [Finding(PROBLEM, f"bubblewrap cannot unshare the network namespace: "
                                 f"{probe.stderr.strip() or probe.returncode}",
                        "allow network namespaces for unprivileged users, or run grading as a user who may")]
    return [Finding(OK, "a sandboxed process has no network: this machine's loopback is out of its reach")]


_LIMITS = ("import resource\n"
           "print(resource.getrlimit(resource.RLIMIT_DATA)[0], resource.getrlimit(resource.RLIMIT_NPROC)[0],\n"
           "      resource.getrlimit(resource.RLIMIT_FSIZE)[0])\n")


def check_limits(prlimit=None, bwrap=None, cgroup_root="/sys/fs/cgroup"):
    """prlimit's rlimits reach a child; a size-limited tmpfs works; cgroup v2 is there or not."""
    findings = []
    prlimit = prlimit or shutil.which("prlimit")
    wanted = (2 * 1024 ** 3, 256, 200 * 1024 ** 2)
    if prlimit is None:
        findings.append(Finding(PROBLEM, "prlimit is missing: no memory, process or file-size limit without cgroups",
                                "apt-get install util-linux"))
    else:
        probe = _run([prlimit, f"--data={wanted[0]}", f"--nproc={wanted[1]}", f"--fsize={wanted[2]}",
                      sys.executable, "-c", _LIMITS])
        seen = tuple(int(x) for x in probe.stdout.split()) if probe.returncode == 0 else ()
        if seen != wanted:
            findings.append(Finding(PROBLEM, f"prlimit ({prlimit}) does not set the limits a child sees "
                                             f"(asked {wanted}, saw {seen or probe.stderr.strip()})",
                                    "check that prlimit works for this account (util-linux)"))
        else:
            findings.append(Finding(OK, "prlimit sets memory (RLIMIT_DATA), process and file-size limits"))
    bwrap = bwrap or shutil.which("bwrap")
    if bwrap is not None:
        probe = _run(_bwrap_base(bwrap) + ["--size", str(1024 * 1024), "--tmpfs", "/tmp", "sh", "-c",
                                           "! head -c 2097152 /dev/zero > /tmp/fill 2>/dev/null"])
        if probe.returncode != 0:
            findings.append(Finding(PROBLEM, "bubblewrap's size-limited tmpfs (--size) does not hold: a submission "
                                             "could fill the disk", "install bubblewrap 0.8 or newer"))
        else:
            findings.append(Finding(OK, "bubblewrap's tmpfs takes a size limit (a submission cannot fill the disk)"))
    controllers = pathlib.Path(cgroup_root) / "cgroup.controllers"
    if controllers.is_file():
        have = controllers.read_text().split()
        missing = [c for c in ("memory", "pids") if c not in have]
        findings.append(Finding(NOTE, f"cgroup v2 at {cgroup_root}" + (
            f" without the {', '.join(missing)} controller(s): the rlimits apply instead" if missing else
            " with the memory and pids controllers: the sandbox can use it (systemd-run --user --scope)")))
    else:
        findings.append(Finding(NOTE, f"no cgroup v2 here ({controllers} is missing): limits are prlimit's rlimits "
                                      "and the tmpfs size; an rlimit holds for each process (the process count for the "
                                      "whole account), not for a kernel and its children together"))
    return findings


def _privacy_findings(report, ok):
    """The findings of a ``privacy`` report: a note for what it could not check, a problem (with
    the command that closes it) for each opening, else ``ok``."""
    findings = [Finding(NOTE, note) for note in report.notes]
    findings += [Finding(PROBLEM, f"{o.path} has mode {o.mode:04o}: {o.why}", o.command) for o in report.opened]
    return findings if report.opened or not report.checked else findings + [Finding(OK, ok)]


def check_homes(homes="/home", group=None):
    """No home in ``homes`` may be open to accounts other than its owner (``privacy.check_homes``)."""
    try:
        report = privacy.check_homes(homes, group)
    except ValueError as error:  # an unknown --hub-group
        return [Finding(PROBLEM, f"the homes were not checked: {error}", "getent group   (then --hub-group NAME)")]
    return _privacy_findings(report, f"every home in {homes} is closed to other accounts")


def check_course(course):
    course = pathlib.Path(course)
    if not (course / "nbgrader_config.py").is_file():
        return [Finding(NOTE, f"{course.resolve()} is not a course folder (no nbgrader_config.py): not checked")]
    report = privacy.check_course_privacy(course)
    if report.private:
        return [Finding(OK, str(report))]
    return [Finding(PROBLEM, f"the course folder {course.resolve()} is open to other accounts "
                             f"({len(report.opened)} item(s), e.g. {report.opened[0][0]})",
                    f"python -m rnn_helpers.instructor.privacy --fix {course.resolve()}")]


def check_exchange(root, course_id="rnn-course"):
    """The nbgrader exchange is safe for the students' uploads (``privacy.check_exchange``)."""
    report = privacy.check_exchange(root, course_id)
    if not report.checked:
        return [Finding(NOTE, f"no exchange at {root} (only a JupyterHub with nbgrader's exchange needs one)")]
    return _privacy_findings(report, f"the exchange {root} is sticky, the course's folders in it are yours and "
                                     "its inbound folder is not listable")


def _remote_sandbox():
    """Run on each Dask worker: can it sandbox student code?"""
    from rnn_helpers.instructor import sandbox

    return sandbox.availability()


def check_cluster(scheduler, tls=None, timeout=20):
    """The scheduler speaks TLS with the course's certificates, refuses others, and its workers sandbox."""
    from . import cluster_tls, workers

    try:
        security = workers.scheduler_security(scheduler, insecure=False, tls=tls)
    except workers.ClusterSecurityError as error:
        return [Finding(PROBLEM, str(error), "python -m rnn_helpers.instructor.cluster_tls DIR   (it prints the "
                                             "scheduler's and workers' commands)")]
    findings = [Finding(OK, f"the TLS folder {tls} is private, complete and outside the sandbox's view")] if tls else []
    from distributed import Client
    from distributed.security import Security

    try:
        with Client(scheduler, security=security, timeout=f"{timeout}s") as client:
            found = client.run(_remote_sandbox)
    except Exception as error:  # an unreachable scheduler, a refused certificate, ...
        return findings + [Finding(PROBLEM, f"cannot reach the scheduler {scheduler} with the course's certificate: "
                                            f"{type(error).__name__}: {error}",
                                   "start it with: " + cluster_tls.commands(tls or "DIR")[0])]
    findings.append(Finding(OK, f"the scheduler {scheduler} answers over TLS with the course's certificate "
                                f"({len(found)} worker(s))"))
    try:
        with Client(scheduler, security=Security.temporary(), timeout="5s"):
            pass
        findings.append(Finding(PROBLEM, f"the scheduler {scheduler} accepted a certificate the course did not sign",
                                "restart it with --tls-ca-file pointing to the course's ca.pem"))
    except Exception:
        findings.append(Finding(OK, f"the scheduler {scheduler} refuses a certificate the course did not sign"))
    gc.collect()   # finalise the refused Client now: collected while another Client starts, it deadlocks
    for worker, (available, how) in sorted(found.items()):
        findings.append(Finding(OK, f"worker {worker} sandboxes student code ({how})") if available else
                        Finding(PROBLEM, f"worker {worker} cannot sandbox student code ({how}): it refuses to grade",
                                "apt-get install bubblewrap on that machine, or stop that worker"))
    if not found:
        findings.append(Finding(NOTE, f"no worker is connected to {scheduler} yet"))
    return findings


def diagnose(course=".", homes="/home", exchange="/srv/nbgrader/exchange", scheduler=None, tls=None, hub_group=None):
    """Every finding about this machine, in the order of the module's docstring."""
    findings = check_bwrap() + check_network() + check_limits() + check_course(course) + check_homes(homes, hub_group)
    findings += check_exchange(exchange)
    if scheduler:
        findings += check_cluster(scheduler, tls)
    return findings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", default=".", help="the course folder (default: here)")
    parser.add_argument("--homes", default="/home", help="the folder of the accounts' homes (default: /home)")
    parser.add_argument("--hub-group", help="the hub's group, which may read the homes (default: none)")
    parser.add_argument("--exchange", default=os.environ.get("RNN_COURSE_EXCHANGE", "/srv/nbgrader/exchange"),
                        help="nbgrader's exchange folder (default: $RNN_COURSE_EXCHANGE or /srv/nbgrader/exchange)")
    parser.add_argument("--scheduler", help="the Dask scheduler grade_class will use (tls://host:8786)")
    parser.add_argument("--tls", help="the folder of the cluster's certificates (cluster_tls)")
    args = parser.parse_args(argv)
    findings = diagnose(args.course, args.homes, args.exchange, args.scheduler, args.tls, args.hub_group)
    for finding in findings:
        print(finding)
    problems = [f for f in findings if f.status == PROBLEM]
    print(f"\n{len(problems)} problem(s): " + ("grading here is not safe until the fixes above are made"
                                               if problems else "this machine is ready to grade"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
