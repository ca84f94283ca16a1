"""The privacy checks find what other accounts could read or change, and close it: the course
folder, the students' homes and the nbgrader exchange."""
import grp
import os
import pwd
import stat

import pytest

from rnn_helpers.instructor import privacy


def make_course(root, mode_files=0o666, mode_dirs=0o777):
    course = root / "course"
    for path in ("solutions/01_sequences", "submitted/alice/01_sequences", "notebooks/01_sequences"):
        (course / path).mkdir(parents=True)
    files = ["solutions/01_sequences/01_sequences.ipynb", "submitted/alice/01_sequences/01_sequences.ipynb",
             "gradebook.db", "grades.csv", "notebooks/01_sequences/01_sequences.ipynb"]
    for name in files:
        (course / name).write_text("{}")
        (course / name).chmod(mode_files)
    for folder in [course, *(p for p in course.rglob("*") if p.is_dir())]:
        folder.chmod(mode_dirs)
    return course


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def quiet(tmp_path, course):
    """The command line for ``course`` alone: no homes folder, no exchange."""
    return [str(course), "--homes", str(tmp_path / "no-homes"), "--exchange", str(tmp_path / "no-exchange")]


def test_an_open_course_is_reported_then_closed(tmp_path, capsys):
    course = make_course(tmp_path)
    report = privacy.check_course_privacy(course)
    opened = {o.path.relative_to(course).as_posix() for o in report.opened}
    assert "." in opened and "solutions/01_sequences/01_sequences.ipynb" in opened
    assert {"gradebook.db", "grades.csv", "submitted/alice/01_sequences"} <= opened
    assert not any(p.startswith("notebooks") for p in opened)     # the students' versions are public
    assert not report.private and "NOT private" in str(report)
    assert mode(course / "gradebook.db") == 0o666                 # a check changes nothing
    assert privacy.main(quiet(tmp_path, course)) == 1

    fixed = privacy.check_course_privacy(course, fix=True)
    assert fixed.private and "now private" in str(fixed)
    assert mode(course) == 0o700 and mode(course / "gradebook.db") == 0o600
    assert mode(course / "submitted" / "alice" / "01_sequences") == 0o700
    assert mode(course / "notebooks" / "01_sequences" / "01_sequences.ipynb") == 0o666
    again = privacy.check_course_privacy(course)
    assert again.opened == [] and "is private" in str(again)
    assert privacy.main(quiet(tmp_path, course)) == 0
    assert "is private" in capsys.readouterr().out


def test_the_cli_fixes_and_says_so(tmp_path, capsys):
    course = make_course(tmp_path, mode_files=0o644, mode_dirs=0o755)
    assert privacy.main(quiet(tmp_path, course) + ["--fix"]) == 0
    out = capsys.readouterr().out
    assert "closed:" in out and "now private" in out
    assert mode(course / "solutions" / "01_sequences" / "01_sequences.ipynb") == 0o600


def test_a_missing_course_folder_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="course_dir should be the course folder"):
        privacy.check_course_privacy(tmp_path / "nowhere")


def test_feedback_pages_close_with_their_folders(tmp_path):
    course = make_course(tmp_path)
    page = course / "feedback" / "alice" / "01_sequences" / "01_sequences.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html></html>")
    page.chmod(0o644)
    (course / "feedback").chmod(0o755)
    privacy.check_course_privacy(course, fix=True)
    # The course's release_feedback writes each page into the exchange with its own mode (0644,
    # test_student_files.test_release_feedback_reads_no_link_and_writes_new_pages).
    assert mode(page) == 0o600 and mode(course / "feedback") == 0o700 and mode(page.parent) == 0o700
    assert mode(course) == 0o700


def fake_accounts(monkeypatch, accounts, groups=()):
    """pwd and grp list only ``accounts`` {name: primary gid} and ``groups`` {gid: listed members}."""
    users = [pwd.struct_passwd((name, "x", 3000 + i, gid, "", f"/home/{name}", "/bin/sh"))
             for i, (name, gid) in enumerate(accounts.items())]
    listed = [grp.struct_group((f"g{gid}", "x", gid, list(members))) for gid, members in dict(groups).items()]
    monkeypatch.setattr(privacy.pwd, "getpwall", lambda: users)
    monkeypatch.setattr(privacy.grp, "getgrall", lambda: listed)


def test_homes_open_to_other_accounts_are_reported_and_closed(tmp_path, monkeypatch):
    homes = tmp_path / "home"
    gid = os.getegid()          # the group of every folder made here
    for name, folder_mode in (("alice", 0o755), ("bob", 0o700), ("carol", 0o750), ("dave", 0o711)):
        (homes / name).mkdir(parents=True)
        (homes / name).chmod(folder_mode)
    (homes / "a-file").write_text("not a home")
    fake_accounts(monkeypatch, {"eve": gid})         # the folders' group holds another account: eve
    report = privacy.check_homes(homes)
    opened = {o.path.name: o for o in report.opened}
    assert sorted(opened) == ["alice", "carol", "dave"] and not report.private
    assert opened["alice"].why == "other accounts can read it"
    assert opened["dave"].why == "other accounts can enter it"
    assert opened["carol"].why == "the other accounts of its group can read it"
    assert opened["alice"].command.startswith(f"chmod 0700 {homes / 'alice'}")
    assert mode(homes / "alice") == 0o755                          # a check changes nothing
    fixed = privacy.check_homes(homes, fix=True)
    assert fixed.private and "now private: 3 item(s) closed" in str(fixed)
    assert [mode(homes / name) for name in ("alice", "bob", "carol", "dave")] == [0o700] * 4
    assert privacy.check_homes(homes).opened == []

    (homes / "carol").chmod(0o750)
    fake_accounts(monkeypatch, {"root": gid})         # a group of the owner's own: its rights harm nobody
    assert privacy.check_homes(homes).opened == []
    fake_accounts(monkeypatch, {}, {gid: ["jupyterhub"]})           # the hub's group, listing its service
    assert [o.path.name for o in privacy.check_homes(homes).opened] == ["carol"]
    hub = grp.getgrgid(gid).gr_name
    assert privacy.check_homes(homes, group=hub).private, "0750 with the hub's group is private"
    (homes / "carol").chmod(0o770)
    [written] = privacy.check_homes(homes, group=hub).opened
    assert written.why == "the hub's group can change it" and written.command.startswith("chmod 0750")
    assert "not checked" in str(privacy.check_homes(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="no group is named 'no-such-group'"):
        privacy.check_homes(homes, group="no-such-group")


def test_an_open_exchange_is_reported_and_what_the_instructor_owns_is_closed(tmp_path):
    root = tmp_path / "exchange"
    course = root / "rnn-course"
    for folder, folder_mode in ((root, 0o777), (course, 0o755), (course / "outbound", 0o777),
                                (course / "inbound", 0o2777), (course / "feedback", 0o755)):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(folder_mode)
    report = privacy.check_exchange(root)
    text = str(report)
    assert "anyone can rename the course's folder away" in text
    assert "others can list the uploads" in text and "it is not sticky" in text
    assert "others can change what it holds" in text and "others can list the released feedback" in text
    assert not report.private
    assert privacy.check_exchange(root, fix=True).private
    assert mode(root) == 0o1777 and mode(course / "inbound") == 0o3733 and mode(course / "feedback") == 0o711
    assert mode(course / "outbound") == 0o755
    assert "is private" in str(privacy.check_exchange(root))
    other = privacy.check_exchange(root, instructor_uid=os.geteuid() + 1)
    assert "not a folder of the instructor" in str(other) and not other.private
    assert "not checked" in str(privacy.check_exchange(tmp_path / "nowhere"))


def test_the_hubs_spawner_puts_the_student_environment_first_on_path(monkeypatch):
    from traitlets.config import Config

    from conftest import ROOT

    monkeypatch.setenv("RNN_COURSE_ENV", "/opt/course-env")
    config = Config()
    source = (ROOT / "hub" / "jupyterhub_config.py").read_text()
    exec(compile(source, "jupyterhub_config.py", "exec"), {"get_config": lambda: config})
    assert config.Spawner.environment["PATH"].split(os.pathsep)[0] == "/opt/course-env/bin"
    assert config.Spawner.cmd == ["/opt/course-env/bin/jupyterhub-singleuser"]
