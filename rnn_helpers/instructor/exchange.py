"""The course's nbgrader exchange classes: collect and release feedback without following a link.

``nbgrader_config.py`` installs them (``c.ExchangeFactory.collect``, ``.release_feedback``), so
``nbgrader collect`` typed in the course folder and the formgrader's Collect button use them.

**Whose upload it is.** ``nbgrader submit`` files an upload in the exchange as
``inbound/<account>+<assignment>+<timestamp>+<random>``, where ``<account>`` is the student's
Unix account name; the student id in the gradebook is that name (nbgrader's own rule; on a
hub where every student runs as one account, ``jovyan``, there is no owner to check: see
``check_owner`` below). ``CourseCollect`` takes an upload only when the upload folder and
every file and folder in it belong to that account (their owner uid). Anything else is
refused, reported and never taken: another account's upload filed under a student's name
(``nbgrader submit --student alice`` run by bob), a file another account put into a
student's upload, an upload folder that is a link. The student's newest upload that passes
is collected instead, so a forged upload can neither replace nor block a student's own.

**What is taken.** The upload is read by ``student_files.read_folder`` (no link followed;
links, hard links, pipes, devices and files over the size limit refused and named, the rest
taken) and written into a new folder of ``submitted/``, which then replaces the previous
submission. Its ``timestamp.txt`` is the upload's timestamp (the one its name holds and
nbgrader compares), whatever file of that name the upload holds. A name nbgrader does not make, an
account that does not exist or a student id a folder cannot carry is reported and skipped;
one upload never stops the collection of the class.

Set ``ExchangeCollect.check_owner = False`` only where students share one Unix account
(containers running as ``jovyan``): then any student can file an upload under another's name.
"""
import os
import pwd
import re
import shutil

from nbgrader.exchange.default import ExchangeCollect, ExchangeReleaseFeedback
from nbgrader.utils import notebook_hash, parse_utc

from . import student_files
from .privacy import account
from .student_files import UnsafeFolder, read_folder, shown, student_id_problem


class CourseCollect(ExchangeCollect):
    """nbgrader's collect, taking only what the student's own account uploaded (see the module)."""

    def init_src(self):
        if self.coursedir.course_id == "":
            self.fail("No course id is set: set CourseDirectory.course_id in nbgrader_config.py or use --course.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        try:
            self.inbound_fd = os.open(self.inbound_path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:
            self.fail(f"The exchange's inbound folder {self.inbound_path} cannot be opened ({error.strerror}): "
                      "release an assignment first (nbgrader release_assignment), and check Exchange.root.")
        owner = os.fstat(self.inbound_fd).st_uid
        if owner != os.geteuid():
            self.fail(f"The exchange's inbound folder {self.inbound_path} belongs to {account(owner)}, "
                      "not to you: another account made it, and could read or change every upload in it. "
                      "Move it away and release the assignment again.")
        self.refused = []
        assignment, wanted = self.coursedir.assignment_id, self.coursedir.student_id or "*"
        pattern = re.compile(r"(?P<user>.+?)\+" + re.escape(assignment) + r"\+(?P<time>[^+]+)(\+[^+]*)?", re.S)
        uploads = {}
        for name in sorted(os.listdir(self.inbound_fd)):
            match = pattern.fullmatch(name)
            if match is None:
                if f"+{assignment}+" in name:
                    self._refuse(name, "its name is not one nbgrader submit makes (account+assignment+time)")
                continue
            user = match["user"]
            if wanted not in ("*", user):
                continue
            try:
                timestamp = parse_utc(match["time"])
            except (ValueError, OverflowError):
                self._refuse(name, f"its time {shown(match['time'])} cannot be read")
                continue
            uploads.setdefault(user, []).append({"username": user, "filename": name, "timestamp": timestamp,
                                                 "time_text": match["time"]})
        self.duedate = self._duedate()
        self.src_records = []
        for user, records in sorted(uploads.items()):
            records.sort(key=lambda record: record["timestamp"], reverse=True)
            if self.before_duedate and self.duedate is not None:
                records.sort(key=lambda record: record["timestamp"] > self.duedate)  # stable: on time first
            self.src_records.append(records)

    def _duedate(self):
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                return gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                return None

    def _refuse(self, upload, why, entry=None):
        """Report a refused upload (or, with ``entry``, a refused file of an upload that is collected)."""
        line = (f"upload {shown(upload)}: file {entry}; the rest of the upload was collected" if entry else
                f"upload {shown(upload)} was refused: {why}")
        self.refused.append(line)
        self.log.error(line)

    def copy_files(self):
        try:
            if not self.src_records:
                self.log.warning("No submissions of %r for course %r to collect", self.coursedir.assignment_id,
                                 self.coursedir.course_id)
            for records in self.src_records:
                self._collect_student(records)
        finally:
            os.close(self.inbound_fd)
        if self.refused:
            self.log.error("%d upload(s) or file(s) were refused (see above); every other upload was collected",
                           len(self.refused))

    def _collect_student(self, records):
        student = records[0]["username"]
        problem = student_id_problem(student)
        if problem is None and self.check_owner:
            try:
                uid = pwd.getpwnam(student).pw_uid
            except KeyError:
                problem = f"no account is named {shown(student)}, so nobody owns this student id"
        if problem:
            for record in records:
                self._refuse(record["filename"], problem if problem.startswith("no account")
                             else f"it is filed under {problem}")
            return
        owner = uid if self.check_owner else None
        dest = self.coursedir.format_path(self.coursedir.submitted_directory, student, self.coursedir.assignment_id)
        existing = self._existing_timestamp(dest)
        for record in records:
            if existing is not None or os.path.lexists(dest):
                newer = existing is None or record["timestamp"] > existing
                if not ((self.update and newer) or (self.before_duedate and record["timestamp"] != existing)):
                    self.log.info("%s %s: %s", student, self.coursedir.assignment_id,
                                  "no newer submission to collect" if self.update else
                                  "already collected; use --update to take a newer one")
                    return
            taken = self._take(record, owner)
            if taken is None:
                continue  # refused: the next older upload of this student, if any
            self.log.info("%s submission: %s %s", "Updating" if os.path.lexists(dest) else "Collecting", student,
                          self.coursedir.assignment_id)
            self._write(dest, taken, record["time_text"])
            return

    def _existing_timestamp(self, dest):
        try:
            return self.coursedir.get_existing_timestamp(dest)
        except Exception:  # an unreadable timestamp.txt: treat the submission as having none
            return None

    def _take(self, record, owner):
        """The files of one upload, or None when it is refused (and reported)."""
        name = record["filename"]
        try:
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=self.inbound_fd)
        except OSError as error:
            self._refuse(name, student_files.open_failure(error, name, self.inbound_fd))
            return None
        try:
            uploader = os.fstat(fd).st_uid
            if owner is not None and uploader != owner:
                self._refuse(name, f"it was uploaded by the account {account(uploader)}, "
                                   f"not by {record['username']}, under whose name it is filed")
                return None
            taken = read_folder(fd, owner=owner, ignore=self.coursedir.ignore)
        except UnsafeFolder as error:
            self._refuse(name, str(error))
            return None
        except OSError as error:  # whatever the upload holds, the rest of the class is collected
            self._refuse(name, f"it could not be read ({error.strerror})")
            return None
        finally:
            os.close(fd)
        foreign = [r for r in taken.refused if r.kind == "owner"]
        if foreign:
            self._refuse(name, f"it holds {shown(foreign[0].path)}, {foreign[0].why}: another account changed "
                               f"{record['username']}'s upload")
            return None
        limit = 1000 * self.coursedir.max_dir_size
        if sum(len(data) for data in taken.files.values()) > limit:
            self._refuse(name, f"it holds more than CourseDirectory.max_dir_size ({limit:,} bytes)")
            return None
        for refusal in taken.refused:
            self._refuse(name, None, entry=refusal)
        return taken

    def _write(self, dest, taken, time_text):
        """Write the taken files as a new folder, then put it in place of ``dest``."""
        files = dict(taken.files)
        files["timestamp.txt"] = time_text.encode("utf-8")
        root = os.path.abspath(self.coursedir.root)
        parts = list(os.path.relpath(dest, root).split(os.sep))
        staging = parts[:-1] + [f".{parts[-1]}.collecting"]
        shutil.rmtree(os.path.join(root, *staging), ignore_errors=True)
        student_files.write_new_folder(root, staging, files)
        parent = student_files.open_dirs(root, parts[:-1], create=False)
        try:
            old = f".{parts[-1]}.replaced"
            shutil.rmtree(os.path.join(root, *parts[:-1], old), ignore_errors=True)
            had = True
            try:
                os.rename(parts[-1], old, src_dir_fd=parent, dst_dir_fd=parent)
            except FileNotFoundError:
                had = False
            os.rename(staging[-1], parts[-1], src_dir_fd=parent, dst_dir_fd=parent)
        finally:
            os.close(parent)
        if had:
            shutil.rmtree(os.path.join(root, *parts[:-1], old))


class CourseReleaseFeedback(ExchangeReleaseFeedback):
    """nbgrader's release_feedback, reading each page without following a link and writing it
    into the exchange as a new file (then renamed into place)."""

    def copy_files(self):
        exclude = set(filter(None, self.coursedir.student_id_exclude.split(",")))
        feedback_root = os.path.abspath(self.coursedir.format_path(self.coursedir.feedback_directory, ".", "."))
        dest = os.open(self.dest_path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            for student in sorted(os.listdir(feedback_root)):
                if student in exclude or (self.coursedir.student_id not in ("*", "", student)):
                    continue
                folder = os.path.join(feedback_root, student, self.coursedir.assignment_id)
                if not os.path.isdir(folder):
                    continue
                try:
                    taken = read_folder(folder, under=feedback_root)
                except UnsafeFolder as error:
                    self.log.error("feedback of %s was not released: %s", shown(student), error)
                    continue
                for refusal in taken.refused:
                    self.log.error("feedback of %s: %s; it was not released", shown(student), refusal)
                self._release(student, taken.files, dest)
        finally:
            os.close(dest)

    def _release(self, student, files, dest):
        secret = files.get("submission_secret.txt")
        timestamp = files.get("timestamp.txt", b"").decode("utf-8", "replace")
        if secret is None:
            self.log.error("feedback of %s was not released: its folder holds no submission_secret.txt", shown(student))
            return
        for name, page in sorted(files.items()):
            if "/" in name or not name.endswith(".html"):
                continue
            notebook_id = name[:-len(".html")]
            checksum = notebook_hash(secret=secret.decode("utf-8", "replace"), notebook_id=notebook_id)
            temporary = f"{checksum}-tmp.html"
            try:
                os.unlink(temporary, dir_fd=dest)
            except FileNotFoundError:
                pass
            student_files.write_file(dest, temporary, page, mode=0o644)
            os.replace(temporary, f"{checksum}.html", src_dir_fd=dest, dst_dir_fd=dest)
            self.log.info("Releasing feedback for student %r on assignment %s/%s/%s (%s)", student,
                          self.coursedir.course_id, self.coursedir.assignment_id, notebook_id, timestamp)
