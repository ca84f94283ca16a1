"""Nobody reads another account's work on a shared machine (a JupyterHub): the course folder,
the students' homes and the nbgrader exchange are checked, and closed where this account may.

    report = check_course_privacy(course_dir)            # look only
    report = check_course_privacy(course_dir, fix=True)  # remove the group's and others' rights
    check_homes("/home", group="jupyterhub")             # students' homes: 0700, or 0750 with the hub's group
    check_exchange("/srv/nbgrader/exchange", "rnn-course")
    print(report)                                        # what was open, what was done, what root must do

or from a shell: ``python -m rnn_helpers.instructor.privacy [COURSE_DIR] [--fix] [--homes DIR]
[--hub-group GROUP] [--exchange DIR]`` (exit status 1 while something is open).

* **The course folder** is closed (mode 0700, so nothing inside can be reached by another
  account, whatever the umask gave the files), and every private item in it too (solutions,
  gradebook, submissions, refused files, grades, feedback before release), so that opening the
  course folder by mistake later exposes none of them.
* **Homes** (every folder in ``/home``): no rights for other accounts; none for the home's
  group either, unless the group holds no account but the owner (a group of her own, as
  ``useradd`` makes) or is the hub's (``--hub-group``), which may read and enter. A student
  reads her own fetched notebooks, work and feedback, and nobody else's. Homes of other
  accounts can be closed only by root: the report gives the command.
* **The exchange**: its root sticky when it is writable by all (else anyone could rename the
  course's folder away and put their own in its place); the course's folder and its
  ``outbound`` and ``feedback`` owned by the instructor and writable by nobody else;
  ``inbound`` not listable by others (the random part of an upload's name is what keeps other
  students out of it) and sticky (so a student cannot rename or delete another's upload);
  ``feedback`` not listable (its pages are found by a hash of each submission's secret).
"""
import argparse
import os
import pathlib
import grp
import pwd
import stat
import sys
from dataclasses import dataclass, field
from typing import NamedTuple

#: What nobody but the instructor may read or write, relative to the course folder.
PRIVATE = ("solutions", "source", "gradebook.db", "submitted", "autograded", "feedback", "refused",
           "grades.csv", "nbgrader.log")
#: Rights of the group and of others.
OPEN_BITS = stat.S_IRWXG | stat.S_IRWXO
#: Where the hub's configuration puts the exchange (hub/*/nbgrader_config.py).
DEFAULT_EXCHANGE = os.environ.get("RNN_COURSE_EXCHANGE", "/srv/nbgrader/exchange")


class Opening(NamedTuple):
    """Something another account can use: the path, its mode as found, what it allows, the
    command that closes it, and the mode bits that closing clears and sets."""
    path: pathlib.Path
    mode: int
    why: str
    command: str
    clear: int = 0
    add: int = 0


@dataclass
class PrivacyReport:
    """``opened``: the Openings found; ``fixed``: those this account closed; ``root_must``:
    commands for those only root can close; ``notes``: what was not checked and why."""
    subject: str
    opened: list = field(default_factory=list)
    fixed: list = field(default_factory=list)
    root_must: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def private(self):
        """True when nothing is open now (after the fix, if one was asked for)."""
        return len(self.fixed) == len(self.opened)

    @property
    def checked(self):
        """False when the subject could not be looked at (see ``notes``)."""
        return not any(note.startswith("not checked") for note in self.notes)

    def __str__(self):
        if not self.opened:
            if not self.checked:
                return "\n".join(self.notes)
            return "\n".join(self.notes + [f"{self.subject} is private: no other account can read or change it"])
        closed = set(self.fixed)
        lines = [f"{'closed' if o in closed else 'OPEN'}: {o.path} (mode {o.mode:04o}): {o.why}"
                 for o in self.opened[:20]]
        if len(self.opened) > 20:
            lines.append(f"... and {len(self.opened) - 20} more")
        if self.private:
            verdict = f"{self.subject} is now private: {len(self.fixed)} item(s) closed"
        else:
            verdict = (f"{self.subject} is NOT private: {len(self.opened) - len(self.fixed)} item(s) can be read or "
                       "changed by other accounts; "
                       + ("run as root: " + "; ".join(dict.fromkeys(self.root_must)) if self.root_must else
                          "run `python -m rnn_helpers.instructor.privacy --fix`"))
        return "\n".join(self.notes + lines + [verdict])


def _walk(path):
    """path and, for a folder, everything below it (symbolic links are not followed)."""
    yield path
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                yield pathlib.Path(root) / name


def _record(report, opening, fix):
    """Record ``opening``; with ``fix``, change its mode if this account may, else keep the
    command root must run."""
    report.opened.append(opening)
    if not fix:
        return
    try:
        mode = stat.S_IMODE(opening.path.lstat().st_mode)
        opening.path.chmod((mode & ~opening.clear) | opening.add)
        report.fixed.append(opening)
    except PermissionError:
        report.root_must.append(opening.command)


def check_course_privacy(course_dir, fix=False):
    """Check (and with ``fix=True`` remove) the group's and others' rights on the course folder
    and on every private item in it (PRIVATE, recursively). Returns a PrivacyReport."""
    course_dir = pathlib.Path(course_dir).resolve()
    if not course_dir.is_dir():
        raise ValueError(f"course_dir should be the course folder (with nbgrader_config.py), got {course_dir} "
                         "which is not a folder")
    report = PrivacyReport(f"course folder {course_dir}")
    candidates = [course_dir] + [p for name in PRIVATE if (course_dir / name).exists()
                                 for p in _walk(course_dir / name)]
    for path in candidates:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & OPEN_BITS:
            _record(report, Opening(path, mode, "the group or others have rights on it", f"chmod go-rwx {path}",
                                    clear=OPEN_BITS), fix)
    return report


def _group_members():
    """{gid: accounts in that group}: those whose primary group it is and those it lists."""
    members = {}
    for user in pwd.getpwall():
        members.setdefault(user.pw_gid, set()).add(user.pw_name)
    for group in grp.getgrall():
        members.setdefault(group.gr_gid, set()).update(group.gr_mem)
    return members


def check_homes(homes="/home", group=None, fix=False):
    """Check (and with ``fix`` close what this account may) every home folder in ``homes``:
    other accounts get no right; the home's group gets none either, unless no account but
    the owner is in it (a group of her own) or it is ``group`` (the hub's group), which may
    read and enter, never write."""
    homes = pathlib.Path(homes)
    report = PrivacyReport(f"every home in {homes}")
    if not homes.is_dir():
        report.notes.append(f"not checked: {homes} is not a folder")
        return report
    try:
        hub_gid = grp.getgrnam(group).gr_gid if group else None
    except KeyError:
        raise ValueError(f"the hub's group should be a group of this machine, but no group is named {group!r} "
                         "(see `getent group`)") from None
    members = _group_members()
    for home in sorted(homes.iterdir()):
        st = home.lstat()
        if not stat.S_ISDIR(st.st_mode):
            continue
        mode = stat.S_IMODE(st.st_mode)
        owner = account(st.st_uid)
        others = members.get(st.st_gid, set()) - {owner}
        allowed = 0o750 if st.st_gid == hub_gid else 0o770 if not others else 0o700
        if mode & 0o777 & ~allowed:
            if mode & 0o007:
                why = f"other accounts can {'read' if mode & 0o004 else 'enter' if mode & 0o001 else 'write'} it"
            elif st.st_gid == hub_gid:
                why = "the hub's group can change it"
            else:
                why = f"the other accounts of its group can {'read' if mode & 0o040 else 'enter' if mode & 0o010 else 'write'} it"
            target = mode & (0o750 if st.st_gid == hub_gid else 0o700)
            _record(report, Opening(home, mode, why, f"chmod {target:04o} {home}   (and set HOME_MODE {target:04o} "
                                                     "in /etc/login.defs for new accounts)",
                                    clear=mode & 0o777 & ~target), fix)
    return report


def check_exchange(root=DEFAULT_EXCHANGE, course_id="rnn-course", fix=False, instructor_uid=None):
    """Check (and with ``fix`` repair what this account owns) the nbgrader exchange ``root``
    and the course's folders in it, against another student and against a student
    pretending to be the instructor (see the module's docstring)."""
    root = pathlib.Path(root)
    instructor_uid = os.geteuid() if instructor_uid is None else instructor_uid
    report = PrivacyReport(f"the exchange {root}")
    if not root.is_dir():
        report.notes.append(f"not checked: {root} is not a folder")
        return report
    mode = stat.S_IMODE(root.stat().st_mode)
    if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
        _record(report, Opening(root, mode, "writable by all without the sticky bit: anyone can rename the course's "
                                            "folder away and put their own in its place", f"chmod +t {root}",
                                add=stat.S_ISVTX), fix)
    course = root / course_id
    if not course.exists():
        report.notes.append(f"{course} does not exist yet (nbgrader release_assignment makes it)")
        return report
    # path: (rights the group and others must not have, must be sticky)
    rules = {course: (0o022, False), course / "outbound": (0o022, False), course / "inbound": (0o044, True),
             course / "feedback": (0o066, False)}
    for path, (forbidden, sticky) in rules.items():
        if not os.path.lexists(path):
            continue
        st = path.lstat()
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode) or st.st_uid != instructor_uid:
            owner = "a link" if stat.S_ISLNK(st.st_mode) else f"owned by {account(st.st_uid)}"
            report.opened.append(Opening(path, mode, f"{owner}, not a folder of the instructor "
                                                     f"({account(instructor_uid)}): its owner controls what "
                                                     "students fetch or submit",
                                         f"mv {path} {path}.suspect   (then release the assignment again)"))
            continue
        if mode & forbidden & 0o044:
            _record(report, Opening(path, mode, "others can list the uploads (and so open them)" if path.name == "inbound"
                                                else "others can list the released feedback", f"chmod go-r {path}",
                                    clear=mode & forbidden & 0o044), fix)
        if mode & forbidden & 0o022:
            _record(report, Opening(path, mode, "others can change what it holds", f"chmod go-w {path}",
                                    clear=mode & forbidden & 0o022), fix)
        if sticky and not mode & stat.S_ISVTX:
            _record(report, Opening(path, mode, "it is not sticky: a student can rename or delete another's upload",
                                    f"chmod +t {path}", add=stat.S_ISVTX), fix)
    return report


def account(uid):
    """The account name of ``uid`` (or ``uid N`` when there is none)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("course_dir", nargs="?", default=".", help="the course folder (default: here)")
    parser.add_argument("--fix", action="store_true", help="close what this account may; say what root must run")
    parser.add_argument("--homes", default="/home", help="the folder of the students' homes (default: /home)")
    parser.add_argument("--hub-group", help="the hub's group, which may read the homes (default: none)")
    parser.add_argument("--exchange", default=DEFAULT_EXCHANGE,
                        help=f"nbgrader's exchange folder (default: $RNN_COURSE_EXCHANGE or {DEFAULT_EXCHANGE})")
    parser.add_argument("--course-id", default="rnn-course", help="the course id in the exchange")
    args = parser.parse_args(argv)
    try:
        reports = [check_course_privacy(args.course_dir, fix=args.fix),
                   check_homes(args.homes, args.hub_group, fix=args.fix),
                   check_exchange(args.exchange, args.course_id, fix=args.fix)]
    except ValueError as error:
        parser.error(str(error))
    print("\n".join(map(str, reports)))
    return 0 if all(report.private for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
