"""rnn_helpers.instructor.doctor: every check finds its failing condition (faked with temporary
folders and stand-in programs) and names the command that fixes it; the real machine's
sandbox passes where bubblewrap works."""
import grp
import os
import shutil
import stat
import subprocess
import sys

import pytest

from rnn_helpers.instructor import doctor, sandbox

needs_bwrap = pytest.mark.skipif(not sandbox.availability()[0],
                                 reason=f"needs the grading sandbox: {sandbox.availability()[1]}")


def program(folder, name, body):
    """An executable Python script ``folder/name``."""
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport os, sys\n{body}\n")
    path.chmod(0o755)
    return str(path)


def failing(folder, name):
    return program(folder, name, "sys.stderr.write('No permissions to create new namespace')\nsys.exit(1)")


def without_isolation(folder, name):
    """A stand-in that drops its options and runs the command as it is (no namespace, no limit)."""
    return program(folder, name, "args = sys.argv[1:]\n"
                                 "i = next(i for i, a in enumerate(args) if a.startswith('/') and os.access(a, os.X_OK) "
                                 "and not a.startswith('/dev') and a not in ('/', '/proc', '/tmp'))\n"
                                 "os.execv(args[i], args[i:])")


def statuses(findings):
    return [f.status for f in findings]


def test_missing_or_broken_bubblewrap_is_a_problem_with_its_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    [missing] = doctor.check_bwrap()
    assert missing.status == doctor.PROBLEM and missing.fix == "apt-get install bubblewrap"
    [broken] = doctor.check_bwrap(failing(tmp_path, "bwrap"))
    assert broken.status == doctor.PROBLEM and "No permissions to create new namespace" in broken.what
    assert "unprivileged_userns_clone" in broken.fix


def test_a_sandbox_that_shares_the_network_is_a_problem(tmp_path):
    [leaky] = doctor.check_network(without_isolation(tmp_path, "bwrap"))
    assert leaky.status == doctor.PROBLEM and "reached this machine's loopback" in leaky.what
    [broken] = doctor.check_network(failing(tmp_path, "bwrap"))
    assert broken.status == doctor.PROBLEM and "cannot unshare the network namespace" in broken.what


def test_limits_that_do_not_apply_are_problems_and_cgroups_are_reported(tmp_path):
    cgroups = tmp_path / "cgroup"
    cgroups.mkdir()
    findings = doctor.check_limits(without_isolation(tmp_path, "prlimit"), failing(tmp_path, "bwrap"), cgroups)
    assert statuses(findings) == [doctor.PROBLEM, doctor.PROBLEM, doctor.NOTE]
    assert "does not set the limits a child sees" in findings[0].what
    assert "size-limited tmpfs" in findings[1].what and "no cgroup v2 here" in findings[2].what
    (cgroups / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    assert "the sandbox can use it" in doctor.check_limits(cgroup_root=cgroups)[-1].what
    (cgroups / "cgroup.controllers").write_text("cpuset cpu io\n")
    assert "without the memory, pids controller(s)" in doctor.check_limits(cgroup_root=cgroups)[-1].what


def test_missing_prlimit_is_a_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    first = doctor.check_limits(cgroup_root=tmp_path)[0]
    assert first.status == doctor.PROBLEM and "prlimit is missing" in first.what


@needs_bwrap
def test_this_machine_sandboxes_isolates_the_network_and_applies_limits():
    findings = doctor.check_bwrap() + doctor.check_network() + doctor.check_limits()
    assert doctor.PROBLEM not in statuses(findings), "\n".join(map(str, findings))


def test_homes_open_to_others_are_problems(tmp_path):
    homes = tmp_path / "home"
    (homes / "alice").mkdir(parents=True)
    (homes / "bob").mkdir()
    (homes / "alice").chmod(0o700)
    (homes / "bob").chmod(0o755)                    # what useradd -m made on the test machine
    [bob] = doctor.check_homes(homes)
    assert bob.status == doctor.PROBLEM and str(homes / "bob") in bob.what and "mode 0755" in bob.what
    assert bob.fix.startswith(f"chmod 0700 {homes / 'bob'}")
    (homes / "bob").chmod(0o700)
    assert statuses(doctor.check_homes(homes)) == [doctor.OK]
    assert statuses(doctor.check_homes(tmp_path / "nowhere")) == [doctor.NOTE]
    [unknown] = doctor.check_homes(homes, group="no-such-group")
    assert unknown.status == doctor.PROBLEM and "no group is named 'no-such-group'" in unknown.what


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("groupadd"), reason="needs root to make a group")
def test_a_home_its_group_can_read_is_a_problem_when_the_group_has_other_accounts(tmp_path):
    group = f"rnn-doctor-{os.getpid()}"
    subprocess.run(["groupadd", group], check=True)
    try:
        home = tmp_path / "home" / "alice"
        home.mkdir(parents=True)
        os.chown(home, 0, grp.getgrnam(group).gr_gid)
        home.chmod(0o750)
        assert statuses(doctor.check_homes(home.parent)) == [doctor.OK]        # a group of her own alone
        subprocess.run(["gpasswd", "-a", "nobody", group], check=True, capture_output=True)
        [shared] = doctor.check_homes(home.parent)
        assert shared.status == doctor.PROBLEM and "the other accounts of its group can read it" in shared.what
    finally:
        subprocess.run(["groupdel", group], check=True)


def test_an_open_course_folder_is_a_problem_fixed_by_the_privacy_command(tmp_path):
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("")
    course.chmod(0o755)
    [found] = doctor.check_course(course)
    assert found.status == doctor.PROBLEM and found.fix == f"python -m rnn_helpers.instructor.privacy --fix {course}"
    course.chmod(0o700)
    (course / "solutions").chmod(0o700)
    assert statuses(doctor.check_course(course)) == [doctor.OK]
    assert statuses(doctor.check_course(tmp_path)) == [doctor.NOTE]       # not a course folder


def test_exchange_permissions(tmp_path):
    root = tmp_path / "exchange"
    inbound = root / "rnn-course" / "inbound"
    inbound.mkdir(parents=True)
    root.chmod(0o777)                               # writable by all, not sticky
    inbound.chmod(0o2733)                           # what nbgrader makes: not listable, but not sticky
    found = doctor.check_exchange(root)
    assert [f.fix for f in found] == [f"chmod +t {root}", f"chmod +t {inbound}"]
    inbound.chmod(0o1777)
    assert [f.fix for f in doctor.check_exchange(root)] == [f"chmod +t {root}", f"chmod go-r {inbound}"]
    root.chmod(0o1777)
    inbound.chmod(0o3733)
    assert statuses(doctor.check_exchange(root)) == [doctor.OK]
    assert statuses(doctor.check_exchange(tmp_path / "nowhere")) == [doctor.NOTE]
    assert stat.S_IMODE(inbound.stat().st_mode) == 0o3733                 # the doctor only looks


def test_a_plain_tcp_scheduler_or_bad_certificates_are_problems(tmp_path):
    [plain] = doctor.check_cluster("tcp://127.0.0.1:8786")
    assert plain.status == doctor.PROBLEM and "no authentication" in plain.what and "cluster_tls" in plain.fix
    [missing] = doctor.check_cluster("tls://127.0.0.1:8786", tls=str(tmp_path / "nowhere"))
    assert missing.status == doctor.PROBLEM and "missing" in missing.what


def test_the_command_exits_non_zero_on_a_problem_and_prints_the_fix(monkeypatch, capsys):
    found = [doctor.Finding(doctor.OK, "fine"), doctor.Finding(doctor.PROBLEM, "broken", "mend it")]
    monkeypatch.setattr(doctor, "diagnose", lambda *args: found)
    assert doctor.main([]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM  broken\n         fix: mend it" in out and "1 problem(s)" in out
    monkeypatch.setattr(doctor, "diagnose", lambda *args: found[:1] + [doctor.Finding(doctor.NOTE, "fyi")])
    assert doctor.main([]) == 0
    assert "ready to grade" in capsys.readouterr().out


def test_diagnose_runs_every_check_on_this_machine(tmp_path):
    findings = doctor.diagnose(course=tmp_path, homes=tmp_path, exchange=tmp_path / "none")
    assert len(findings) >= 7 and all(f.status in (doctor.OK, doctor.NOTE, doctor.PROBLEM) for f in findings)
    assert "not a course folder" in "\n".join(map(str, findings))
