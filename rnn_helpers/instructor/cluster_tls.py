"""TLS for grading on a Dask cluster: the course's own certificate authority and certificates.

    python -m rnn_helpers.instructor.cluster_tls DIR [--days 365]

writes into DIR (created with mode 0700) the certificate of a new certificate authority
(``ca.pem``) and, signed by it, a certificate and its key for each role: ``scheduler.pem``
and ``scheduler-key.pem``, ``worker.pem`` and ``worker-key.pem``, ``client.pem`` and
``client-key.pem`` (keys 0600). The authority's own key is never written: nobody, you
included, can sign another certificate that this cluster accepts; run the command again
(into a new folder) to rotate them all. Dask's TLS makes both ends of every connection show
a certificate signed by ``ca.pem``: a graded cell, another account or another machine
without one cannot reach the scheduler or the workers.

Copy ``ca.pem``, ``worker.pem`` and ``worker-key.pem`` to each grading machine, into a
folder that only the workers' account can read, outside what the grading sandbox shows a
kernel (the system folders, the Python environment): ``check_folder`` and
``python -m rnn_helpers.instructor.doctor --tls DIR`` say when that is not so. The command
prints the scheduler's, the workers' and ``grade_class``'s command lines.
"""
import argparse
import datetime
import os
import pathlib
import stat
import sys

#: The roles of a grading cluster, each with a certificate and a key.
ROLES = ("scheduler", "worker", "client")
CA_FILE = "ca.pem"


def cert_file(folder, role):
    return pathlib.Path(folder) / f"{role}.pem"


def key_file(folder, role):
    return pathlib.Path(folder) / f"{role}-key.pem"


def _write_new(path, data, mode):
    """Write ``data`` into a new file (never through an existing file or link)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def make_certificates(folder, days=365):
    """Create DIR's authority and role certificates (see the module's docstring); returns the folder.

    Refuses a folder that already holds one of the files, or that other accounts can use.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = pathlib.Path(folder).absolute()
    if not isinstance(days, int) or days < 1:
        raise ValueError(f"days should be a whole number of at least 1, but got {days!r}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise ValueError(f"{folder} should be a folder of yours, but it is not (a link, or another account's)")
    os.chmod(folder, 0o700)
    names = [CA_FILE] + [p.name for role in ROLES for p in (cert_file(folder, role), key_file(folder, role))]
    present = [name for name in names if os.path.lexists(folder / name)]
    if present:
        raise ValueError(f"{folder} already holds {', '.join(present)}: choose a new folder to make new "
                         "certificates (the old ones keep working until you restart the cluster with the new)")

    now = datetime.datetime.now(datetime.timezone.utc)
    valid = dict(not_valid_before=now - datetime.timedelta(minutes=5), not_valid_after=now + datetime.timedelta(days=days))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rnn-course grading cluster authority")])
    ca = (x509.CertificateBuilder(subject_name=ca_name, issuer_name=ca_name, public_key=ca_key.public_key(),
                                  serial_number=x509.random_serial_number(), **valid)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    _write_new(folder / CA_FILE, ca.public_bytes(serialization.Encoding.PEM), 0o644)
    for role in ROLES:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            x509.CertificateBuilder(subject_name=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"rnn-course {role}")]),
                                    issuer_name=ca_name, public_key=key.public_key(),
                                    serial_number=x509.random_serial_number(), **valid)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # every node both serves connections and opens them
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
        _write_new(key_file(folder, role), key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()), 0o600)
        _write_new(cert_file(folder, role), certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    return folder


def security(folder, role="client"):
    """A ``distributed.security.Security`` that speaks only TLS with DIR's certificate of ``role``."""
    from distributed.security import Security

    folder = pathlib.Path(folder)
    files = {"tls_ca_file": str(folder / CA_FILE), f"tls_{role}_cert": str(cert_file(folder, role)),
             f"tls_{role}_key": str(key_file(folder, role))}
    missing = [path for path in files.values() if not os.path.isfile(path)]
    if missing:
        raise ValueError(f"the TLS folder {folder} lacks {', '.join(missing)}: make the certificates with "
                         f"`python -m rnn_helpers.instructor.cluster_tls {folder}`")
    return Security(require_encryption=True, **files)


def sandbox_visible(path):
    """The folder of the grading sandbox's view that holds ``path``, else None.

    A key there could be printed by a graded cell into the student's own feedback.
    """
    from . import sandbox

    # What the sandbox binds from this machine: the system folders and the import path.
    binds = sandbox._system_binds() + sandbox._python_binds()
    shown = [binds[i + 1] for i, arg in enumerate(binds[:-1]) if arg in ("--bind", "--ro-bind")]
    shown += [binds[i + 2] for i, arg in enumerate(binds[:-2]) if arg == "--symlink"]
    real = os.path.realpath(path)
    for folder in shown:
        for candidate in {folder, os.path.realpath(folder)}:
            if real == candidate or real.startswith(candidate.rstrip("/") + "/"):
                return folder
    return None


def check_folder(folder, role="client"):
    """Problems of DIR's files for ``role`` (or an empty list): missing, open to other accounts,
    visible in the grading sandbox, not signed by DIR's ca.pem, expired."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    folder = pathlib.Path(folder).absolute()
    certificate, key, ca_path = cert_file(folder, role), key_file(folder, role), folder / CA_FILE
    missing = [str(p) for p in (ca_path, certificate, key) if not p.is_file()]
    if missing:
        return [f"{', '.join(missing)} missing: make them with `python -m rnn_helpers.instructor.cluster_tls {folder}` "
                "and copy the role's files there"]
    problems = []
    for path in (folder, key):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            problems.append(f"{path} has mode {mode:04o}: other accounts can read it; fix: chmod go-rwx {path}")
    shown = sandbox_visible(key)
    if shown:
        problems.append(f"{key} lies in {shown}, which the grading sandbox shows to every graded kernel: a "
                        f"submission could print the key; move the folder to a private folder of your home")
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    mine = x509.load_pem_x509_certificate(certificate.read_bytes())
    try:
        mine.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        problems.append(f"{certificate} is not signed by {ca_path}: copy the files of one `cluster_tls` run together")
    now = datetime.datetime.now(datetime.timezone.utc)
    for path, cert in ((ca_path, ca), (certificate, mine)):
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            problems.append(f"{path} is valid from {cert.not_valid_before_utc:%Y-%m-%d} to "
                            f"{cert.not_valid_after_utc:%Y-%m-%d}, not now: make new certificates")
    return problems


def commands(folder, host="SCHEDULER-HOST"):
    """The command lines of a TLS cluster with DIR's certificates."""
    def tls(role):
        return (f"--tls-ca-file {folder}/{CA_FILE} --tls-cert {cert_file(folder, role)} "
                f"--tls-key {key_file(folder, role)}")
    return [f"dask scheduler --protocol tls --port 8786 {tls('scheduler')}",
            f"dask worker tls://{host}:8786 --nthreads 1 --nworkers 4 --preload rnn_helpers.instructor.workers "
            f"{tls('worker')}",
            f"python -m rnn_helpers.instructor.grade_class --scheduler tls://{host}:8786 --tls {folder}"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="new or empty folder for the certificates")
    parser.add_argument("--days", type=int, default=365, help="validity of the certificates (default 365)")
    args = parser.parse_args(argv)
    try:
        folder = make_certificates(args.folder, args.days)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"certificates for a grading cluster written to {folder} (valid {args.days} days); the authority's "
          "key was not kept. Copy ca.pem, worker.pem and worker-key.pem to each grading machine (a private "
          "folder, mode 0700), then:")
    for line in commands(folder):
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
