"""Moving student files without following a link: the one rule every grading path uses.

A folder a student filled (an upload in the exchange, ``submitted/<student>/<assignment>/``,
the folder a submission's kernel wrote while it was graded) may hold entries that would make
the grader read or write something else: a symbolic link (to ``solutions/``, the gradebook,
another student's work, ``/dev/zero``), a hard link (a second name of a file that may lie
outside the submission), a named pipe (a read blocks for ever), a device, a socket, a mount
point, a name with a newline (it would forge lines of the report), ten thousand files. The
rule, applied entry by entry:

* a symbolic link, a named pipe, a device, a socket, an entry on another file system, a
  regular file with more than one name, a file over ``MAX_FILE_BYTES`` and a name holding a
  control character are **refused**: the entry is named, with the reason, and left out; the
  rest of the folder is taken;
* a folder with more than ``MAX_ENTRIES`` entries, nested deeper than ``MAX_DEPTH``, or over
  ``MAX_TOTAL_BYTES`` is refused as a whole (``UnsafeFolder``).

Files are read through descriptors opened with ``O_NOFOLLOW | O_NONBLOCK`` one folder
descriptor at a time (never a path resolved again later), and what was opened is checked
again (``fstat``: the same file, still regular, one name, the expected owner): a student who
still owns the folder and swaps an entry between the check and the copy gains nothing.
Every output is a new file (``O_CREAT | O_EXCL | O_NOFOLLOW``) in a folder the grader created.

    read_folder(folder)                   -> Taken(files {relative path: bytes}, refused [Refusal])
    write_new_folder(anchor, parts, files)   a new folder holding exactly ``files``
    quarantine(course, area, student, assignment)
                                          moves what the rule refuses out of
                                          ``course/area/student/assignment`` into ``course/refused/``

``nbgrader_config.py`` installs the nbgrader side: ``vet_submitted`` (``Autograde.pre_convert_hook``:
``submitted/`` is vetted before nbgrader copies anything from it), ``SealGradedFolder`` (the
autograde preprocessor right after the execution: what the submission's code left in its
``autograded/`` folder is vetted before nbgrader writes the graded notebook there and sets its
permissions) and ``vet_autograded`` (``GenerateFeedback.pre_convert_hook``).
"""
import errno
import fnmatch
import os
import pathlib
import stat
import unicodedata
from dataclasses import dataclass, field

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets.log import get_logger

from .privacy import account

#: A file larger than this is not something a student wrote for the course.
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Files and folders one submission may hold, how deep, and how many bytes in all.
MAX_ENTRIES = 1000
MAX_DEPTH = 16
MAX_TOTAL_BYTES = 200 * 1024 * 1024
#: The student id under which grade_class grades the instructor's solution in its self-check;
#: no real submission may use it.
SELF_CHECK_ID = "instructor-solution-check"
#: Where refused entries are moved, relative to the course folder.
REFUSED = "refused"
#: nbgrader's default ignore patterns: skipped silently, as nbgrader's own copies do.
IGNORED = (".ipynb_checkpoints", "*.pyc", "__pycache__")

_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_SPECIAL = {stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a character device",
            stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


class UnsafeFolder(ValueError):
    """A folder refused as a whole (too many entries, too deep, too large, or not a folder)."""


@dataclass(frozen=True)
class Refusal:
    """One refused entry: its path relative to the folder, why, and the kind of reason
    ('link', 'special', 'mount', 'hardlink', 'owner', 'size', 'name')."""
    path: str
    why: str
    kind: str

    def __str__(self):
        return f"{shown(self.path)} was refused: it is {self.why}"


@dataclass
class Taken:
    """What ``read_folder`` took: ``files`` {relative path: bytes} and the ``refused`` entries."""
    files: dict = field(default_factory=dict)
    refused: list = field(default_factory=list)


def shown(name):
    """``name`` as it can be printed on one line: quoted with escapes when it holds a control
    character (a newline would otherwise start a forged line of the report)."""
    name = str(name)
    return repr(name) if any(unicodedata.category(ch).startswith("C") for ch in name) else name


def student_id_problem(student_id):
    """None if ``student_id`` can name a student's folders, else the reason, as a sentence end.

    Allowed: 1 to 100 letters, digits and `` ._-@'``, beginning with a letter or digit and not
    ending with a space; not ``SELF_CHECK_ID``. This keeps out path separators, ``..``, hidden
    names, nbgrader's exchange separator ``+``, glob characters and control characters."""
    if not isinstance(student_id, str) or not student_id:
        return "an empty student id"
    if student_id == SELF_CHECK_ID:
        return (f"the student id {SELF_CHECK_ID!r}, which grade_class reserves for grading the instructor's "
                "solution; rename the submission after the student's real id")
    if len(student_id) > 100:
        return f"a student id of {len(student_id)} characters (at most 100)"
    bad = sorted({ch for ch in student_id if not (ch.isalnum() or ch in " ._-@'")})
    if bad or not student_id[0].isalnum() or student_id.endswith(" "):
        return (f"the student id {shown(student_id)}, which holds characters a student id may not hold "
                f"({', '.join(repr(ch) for ch in bad) or 'its first or last character'}); use letters, digits "
                "and . _ - @ ' beginning with a letter or digit")
    return None


def _ignored(name, ignore):
    return any(fnmatch.fnmatch(name, pattern) for pattern in ignore)


def _refusal(st, name, dir_fd, top_dev, owner):
    """Why the entry with lstat ``st`` is refused, as (why, kind), or None if it may be taken."""
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(name, dir_fd=dir_fd)
        except OSError:
            target = "?"
        return f"a symbolic link (to {shown(target)})", "link"
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return _SPECIAL.get(stat.S_IFMT(st.st_mode), "not a regular file"), "special"
    if st.st_dev != top_dev:
        return "on another file system (a mount point)", "mount"
    if owner is not None and st.st_uid != owner:
        return f"owned by {account(st.st_uid)}, not by {account(owner)}", "owner"
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        return (f"a hard link (one of {st.st_nlink} names of one file, which may lie outside the "
                "submission)"), "hardlink"
    if stat.S_ISREG(st.st_mode) and st.st_size > MAX_FILE_BYTES:
        return f"{st.st_size:,} bytes, over the {MAX_FILE_BYTES:,} a file may hold", "size"
    return None


class _Walk:
    """One pass over a folder by descriptors: regular files are handed to ``on_file``,
    refused entries to ``on_refused``; the limits raise UnsafeFolder."""

    def __init__(self, owner=None, ignore=IGNORED, skip_notebooks=False, on_file=None, on_refused=None):
        self.owner, self.ignore, self.skip_notebooks = owner, tuple(ignore), skip_notebooks
        self.on_file = on_file or (lambda rel, dir_fd, name, st: None)
        self.on_refused = on_refused or (lambda refusal, dir_fd, name: None)
        self.entries = 0
        self.total = 0

    def run(self, dir_fd):
        top = os.fstat(dir_fd)
        if not stat.S_ISDIR(top.st_mode):
            raise UnsafeFolder("it is not a folder")
        if self.owner is not None and top.st_uid != self.owner:
            raise UnsafeFolder(f"the folder is owned by {account(top.st_uid)}, not by {account(self.owner)}")
        self.top_dev = top.st_dev
        self._folder(dir_fd, "", 0)

    def _folder(self, dir_fd, prefix, depth):
        if depth > MAX_DEPTH:
            raise UnsafeFolder(f"it nests folders deeper than {MAX_DEPTH} levels")
        for name in sorted(os.listdir(dir_fd)):
            rel = prefix + name
            if _ignored(name, self.ignore):
                continue
            self.entries += 1
            if self.entries > MAX_ENTRIES:
                raise UnsafeFolder(f"it holds more than {MAX_ENTRIES:,} files and folders")
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:  # removed while we looked: nothing to take
                continue
            except OSError as error:  # e.g. another account's FUSE mount, closed to us
                self.on_refused(Refusal(rel, f"an entry that could not be examined ({error.strerror})", "special"),
                                dir_fd, name)
                continue
            if shown(name) != name:
                self.on_refused(Refusal(rel, "named with a control character (a newline, a tab, ...)", "name"),
                                dir_fd, name)
                continue
            reason = _refusal(st, name, dir_fd, self.top_dev, self.owner)
            if reason:
                self.on_refused(Refusal(rel, *reason), dir_fd, name)
                continue
            if stat.S_ISDIR(st.st_mode):
                try:
                    child = os.open(name, _OPEN_DIR, dir_fd=dir_fd)
                except OSError as error:  # swapped for a link or removed since the lstat
                    self.on_refused(Refusal(rel, f"a folder that could not be opened ({error.strerror})", "special"),
                                    dir_fd, name)
                    continue
                try:
                    now = os.fstat(child)
                    if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                        self.on_refused(Refusal(rel, "a folder that was replaced while it was read", "link"),
                                        dir_fd, name)
                        continue
                    self._folder(child, rel + "/", depth + 1)
                finally:
                    os.close(child)
            elif not (self.skip_notebooks and name.endswith(".ipynb")):
                self.total += st.st_size
                if self.total > MAX_TOTAL_BYTES:
                    raise UnsafeFolder(f"it holds more than {MAX_TOTAL_BYTES:,} bytes")
                self.on_file(rel, dir_fd, name, st)


def _open_folder(folder, under=None):
    """A descriptor of ``folder``, opened without following a link: its last component, and
    every component below ``under`` when it is given. ``folder`` may be a descriptor already."""
    if isinstance(folder, int):
        return os.dup(folder)
    folder = pathlib.Path(folder)
    if under is None:
        return os.open(folder, _OPEN_DIR)
    return open_dirs(under, folder.relative_to(under).parts, create=False)


def _read_opened(dir_fd, name, st, owner):
    """The bytes of the regular file ``name`` (lstat ``st``), checked again on its descriptor."""
    fd = os.open(name, _OPEN_FILE, dir_fd=dir_fd)
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(now.st_mode):
            return None, ("an entry that was replaced while it was read", "link")
        if now.st_nlink > 1:
            return None, (f"a hard link (one of {now.st_nlink} names of one file)", "hardlink")
        if owner is not None and now.st_uid != owner:
            return None, (f"owned by {account(now.st_uid)}, not by {account(owner)}", "owner")
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            return None, (f"a file that grew over the {MAX_FILE_BYTES:,} bytes a file may hold", "size")
        return b"".join(chunks), None
    finally:
        os.close(fd)


def read_folder(folder, owner=None, skip_notebooks=False, ignore=IGNORED, under=None):
    """Read the regular files under ``folder`` (a path or a folder descriptor) by the rule above.

    ``owner``: the uid every entry must belong to (the student's account, when collecting), or
    None. ``skip_notebooks`` leaves out ``*.ipynb`` (an assignment's other files); ``ignore``:
    name patterns skipped silently; ``under``: a folder above ``folder`` below which no
    component may be a link. Returns a ``Taken``; raises ``UnsafeFolder`` for a refused folder.
    """
    taken = Taken()

    def take(rel, dir_fd, name, st):
        try:
            data, reason = _read_opened(dir_fd, name, st, owner)
        except OSError as error:  # swapped for a link since it was looked at, or unreadable
            data, reason = None, ("an entry that was replaced by a link while it was read", "link") \
                if error.errno == errno.ELOOP else (f"a file that could not be read ({error.strerror})", "special")
        if reason:
            taken.refused.append(Refusal(rel, *reason))
        else:
            taken.files[rel] = data

    try:
        fd = _open_folder(folder, under)
    except OSError as error:
        raise UnsafeFolder(open_failure(error, None if isinstance(folder, int) else folder)) from None
    try:
        _Walk(owner, ignore, skip_notebooks, take, lambda refusal, dir_fd, name: taken.refused.append(refusal)).run(fd)
    finally:
        os.close(fd)
    return taken


def open_failure(error, name=None, dir_fd=None):
    """Why a folder could not be opened without following a link, as a sentence end."""
    if error.errno in (errno.ELOOP, errno.ENOTDIR) and name is not None:
        try:
            if stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                return f"it is a symbolic link (to {shown(os.readlink(name, dir_fd=dir_fd))}), not a folder"
        except OSError:
            pass
    if error.errno in (errno.ELOOP, errno.ENOTDIR):
        return "it is not a folder, or a symbolic link stands on its path"
    return f"it cannot be opened ({error.strerror})"


def _checked_parts(relative):
    parts = pathlib.PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or any(p in ("", ".", "..") or shown(p) != p for p in parts):
        raise ValueError(f"a file's path should stay inside its folder and be printable, but got {shown(relative)}")
    return parts


def open_dirs(anchor, parts, create=True, mode=0o700):
    """A descriptor of ``anchor/parts...``, each part opened without following a link and made
    (``mode``) when missing if ``create``."""
    fd = os.open(anchor, _OPEN_DIR)
    try:
        for part in parts:
            if create:
                try:
                    os.mkdir(part, mode, dir_fd=fd)
                except FileExistsError:
                    pass
            child = os.open(part, _OPEN_DIR, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_file(dir_fd, name, data, mode=0o600):
    """Write ``data`` to ``name`` in the folder ``dir_fd`` as a new file (never through an
    existing entry) with exactly the permissions ``mode``, whatever the umask."""
    fd = os.open(name, _NEW_FILE, mode, dir_fd=dir_fd)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_new_folder(anchor, parts, files, mode=0o700):
    """Create ``anchor/parts...`` (its last part must not exist; the others are made or opened
    without following links) holding exactly ``files`` {relative path: bytes}, each a new file."""
    parent = open_dirs(anchor, parts[:-1], mode=mode)
    try:
        os.mkdir(parts[-1], mode, dir_fd=parent)
        top = os.open(parts[-1], _OPEN_DIR, dir_fd=parent)
    finally:
        os.close(parent)
    try:
        made = {(): top}
        for relative in sorted(files):
            path = _checked_parts(relative)
            for depth in range(1, len(path)):
                if path[:depth] not in made:
                    os.mkdir(path[depth - 1], mode, dir_fd=made[path[:depth - 1]])
                    made[path[:depth]] = os.open(path[depth - 1], _OPEN_DIR, dir_fd=made[path[:depth - 1]])
            write_file(made[path[:-1]], path[-1], files[relative])
    finally:
        for fd in made.values():
            os.close(fd)


def replace_file(anchor, parts, data):
    """Write ``data`` as ``anchor/parts...``: a new file under a temporary name, renamed over
    whatever stood there (a rename replaces a link, it never writes through it)."""
    folder = open_dirs(anchor, parts[:-1])
    try:
        temporary = f".{parts[-1]}.{os.getpid()}.new"
        try:
            os.unlink(temporary, dir_fd=folder)
        except FileNotFoundError:
            pass
        write_file(folder, temporary, data)
        os.replace(temporary, parts[-1], src_dir_fd=folder, dst_dir_fd=folder)
    finally:
        os.close(folder)


def _free_name(dir_fd, name):
    """``name``, or ``name.1``, ``name.2``, ... : the first that does not exist in ``dir_fd``."""
    candidate, n = name, 0
    while True:
        try:
            os.stat(candidate, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return candidate
        n += 1
        candidate = f"{name}.{n}"


def _move_out(course, area, student, assignment, relative, from_fd, name):
    """Move entry ``name`` of folder ``from_fd`` to ``course/refused/area/student/assignment/relative``
    (a rename: a link moves as a link); returns the path it went to, relative to the course."""
    parent = pathlib.PurePosixPath(relative).parent.parts
    safe = [p if shown(p) == p else repr(p)[1:-1] for p in (area, student, assignment, *parent)]
    target = open_dirs(course, [REFUSED, *safe])
    try:
        landed = _free_name(target, name if shown(name) == name else repr(name)[1:-1])
        os.rename(name, landed, src_dir_fd=from_fd, dst_dir_fd=target)
    finally:
        os.close(target)
    return "/".join([REFUSED, *safe, landed])


def quarantine(course, area, student, assignment, made_by_code=False, keep_notebooks=False):
    """Vet ``course/area/student/assignment`` by the rule above and move what it refuses into
    ``course/refused/area/student/assignment/``. A folder refused as a whole moves entirely
    (with ``keep_notebooks``: all but its top-level regular notebooks, so that the grader can
    still write the graded notebook). Returns the refusals, each with where it went."""
    course = pathlib.Path(course)
    parts = [area, student, assignment]
    moved = []
    suffix = ", made by the submission's code while it ran" if made_by_code else ""

    def move(refusal, dir_fd, name):
        where = _move_out(course, area, student, assignment, refusal.path, dir_fd, name)
        moved.append(Refusal(refusal.path, f"{refusal.why}{suffix}; moved to {where}", refusal.kind))

    fd = os.open(course, _OPEN_DIR)
    for part in parts:  # a link (or anything but a folder) on the path is moved out whole
        try:
            child = os.open(part, _OPEN_DIR, dir_fd=fd)
        except OSError as error:
            try:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    move(Refusal(".", open_failure(error, part, fd).removeprefix("it is "), "link"), fd, part)
                    return moved
                raise
            finally:
                os.close(fd)
        os.close(fd)
        fd = child
    try:
        _Walk(ignore=(), on_refused=move).run(fd)
    except UnsafeFolder as whole:
        if keep_notebooks:  # the graded notebook stays, for nbgrader to write the graded version
            for name in sorted(os.listdir(fd)):
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if not (name.endswith(".ipynb") and stat.S_ISREG(st.st_mode) and st.st_nlink == 1):
                    _move_out(course, area, student, assignment, name, fd, name)
            moved.append(Refusal("*", f"a folder refused as a whole ({whole}){suffix}; all but its notebooks moved to "
                                      f"{REFUSED}/{area}/{shown(student)}/{assignment}/", "size"))
        else:
            parent = open_dirs(course, parts[:-1], create=False)
            try:
                where = _move_out(course, area, student, assignment, assignment, parent, assignment)
            finally:
                os.close(parent)
            moved.append(Refusal(".", f"a folder refused as a whole: {whole}; moved to {where}", "size"))
    finally:
        os.close(fd)
    return moved


# -- nbgrader's side ------------------------------------------------------------------------

def _hook_folder(notebooks):
    """(course, area, student, assignment) of a submission folder, from nbgrader's list of its
    notebooks ``course/area/student/assignment/name.ipynb`` (the course's directory structure)."""
    folder = pathlib.Path(os.path.abspath(notebooks[0])).parent
    return folder.parents[2], folder.parents[1].name, folder.parent.name, folder.name


def _vet(notebooks, logger, made_by_code=False, keep_notebooks=False):
    if not notebooks:
        return []
    course, area, student, assignment = _hook_folder(notebooks)
    try:
        refused = quarantine(course, area, student, assignment, made_by_code, keep_notebooks)
    except Exception as error:
        # nbgrader goes on after a failed hook: take the whole folder out of its way (a rename
        # inside its own parent folder), so that nbgrader reports the submission instead of
        # copying from a folder nobody checked.
        aside = course / area / student / f".{assignment}.unchecked"
        logger.error("%s/%s/%s was refused: it could not be checked for links (%s: %s); it was renamed to %s: "
                     "look at it, then move it back and grade it again", area, shown(student), assignment,
                     type(error).__name__, error, aside.relative_to(course))
        os.rename(course / area / student / assignment, aside)
        raise
    for refusal in refused:
        logger.warning("%s/%s/%s/%s", area, shown(student), assignment, refusal)
    return refused


def vet_submitted(assignment=None, student=None, notebooks=(), **_):
    """``Autograde.pre_convert_hook``: vet ``submitted/<student>/<assignment>/`` before nbgrader
    copies from it (a refused notebook is moved out, so nbgrader reports that submission)."""
    _vet(list(notebooks), get_logger())


def vet_autograded(assignment=None, student=None, notebooks=(), **_):
    """``GenerateFeedback.pre_convert_hook``: vet ``autograded/<student>/<assignment>/`` before
    nbgrader turns its notebooks into feedback and copies its other files next to them."""
    _vet(list(notebooks), get_logger())


class SealGradedFolder(NbGraderPreprocessor):
    """Autograde preprocessor, right after the execution: the submission's kernel has ended and
    could write its folder in ``autograded/``; what it left there that the rule refuses (a link
    in place of the notebook, a link beside it, a pipe, ten thousand files) is moved to
    ``refused/`` before nbgrader writes the graded notebook into that folder and sets the
    permissions of its files."""

    def preprocess(self, nb, resources):
        path = resources.get("metadata", {}).get("path")
        name = resources.get("nbgrader", {}).get("notebook")
        if path and name:
            _vet([os.path.join(path, f"{name}.ipynb")], self.log, made_by_code=True, keep_notebooks=True)
        return nb, resources
