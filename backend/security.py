"""The embedded Dask cluster's TLS: a CA and one certificate, made at the first start.

`plait server` runs its embedded cluster with Dask's own TLS
(`distributed.security.Security`, encryption required, both sides present a
certificate): only a process that can read `$PLAIT_HOME/tls/` (0700, files
0600) talks to its scheduler, its workers or its dashboard. At the first start
`ensure_cluster_tls` makes, with `cryptography`:

    tls/ca.pem         a CA certificate (its key is thrown away once it signed)
    tls/dask.pem       the certificate of the scheduler, the workers and their clients
    tls/dask-key.pem   its private key

Later starts reuse them until they are within EXPIRY_MARGIN of their end.
`cluster_tls` only reads them (API worker processes, tests, benchmarks).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import socket
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from plait.model import home as layout

VALID_DAYS = 5 * 365
EXPIRY_MARGIN = dt.timedelta(days=7)


@dataclass(frozen=True)
class TlsFiles:
    """A CA file and the certificate and key a Dask client (and the cluster's parts) present."""

    ca_file: Path
    cert: Path
    key: Path

    def security(self, *, role: str = "all") -> Any:
        """A `distributed.security.Security` that requires encryption and these files.

        `role` "client" gives only the client's certificate (an external scheduler's
        clients); "all" the scheduler's and workers' too (the embedded cluster)."""
        from distributed.security import Security

        files = {"tls_ca_file": str(self.ca_file), "tls_client_cert": str(self.cert),
                 "tls_client_key": str(self.key)}
        if role == "all":
            files.update(tls_scheduler_cert=str(self.cert), tls_scheduler_key=str(self.key),
                         tls_worker_cert=str(self.cert), tls_worker_key=str(self.key))
        return Security(require_encryption=True, **files)

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts the CA and presents the certificate (the dashboard's client)."""
        return _client_context(str(self.ca_file), str(self.cert), str(self.key))


@lru_cache(maxsize=8)
def _client_context(ca_file: str, cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.load_cert_chain(cert, key)
    ctx.check_hostname = False  # a dedicated CA; the dashboard is reached by IP address
    return ctx


def tls_files(home: str | os.PathLike[str]) -> TlsFiles:
    folder = Path(home) / layout.TLS
    return TlsFiles(folder / layout.TLS_CA, folder / layout.TLS_CERT, folder / layout.TLS_KEY)


def cluster_tls(home: str | os.PathLike[str]) -> TlsFiles:
    """The embedded cluster's TLS files of the server whose home is `home`; they must exist."""
    files = tls_files(home)
    missing = [str(p) for p in (files.ca_file, files.cert, files.key) if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"the Dask TLS files {', '.join(missing)} do not exist: `plait server` makes them "
            f"in {Path(home) / layout.TLS} when it first starts an embedded cluster there; start "
            "it once (or point PLAIT_HOME at the server's home)"
        )
    return files


def ensure_cluster_tls(home: str | os.PathLike[str]) -> TlsFiles:
    """The embedded cluster's TLS files, made now if they are missing, broken or about to expire."""
    folder = layout.ensure_private(Path(home) / layout.TLS)
    files = tls_files(home)
    with _locked(folder):
        if not _usable(files):
            _make(files)
    return files


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Two servers starting on one home make one set of files."""
    import fcntl

    fd = layout.open_file_private(folder / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _usable(files: TlsFiles) -> bool:
    from cryptography import x509

    try:
        ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        files.key.stat()
    except (OSError, ValueError):
        return False
    soon = dt.datetime.now(dt.timezone.utc) + EXPIRY_MARGIN
    if min(ca.not_valid_after_utc, cert.not_valid_after_utc) < soon or cert.issuer != ca.subject:
        return False
    from cryptography.exceptions import InvalidSignature

    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _make(files: TlsFiles) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(days=VALID_DAYS)
    host = socket.gethostname()

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"plait Dask CA ({host})")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"),
                                     x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                     x509.IPAddress(ipaddress.ip_address("::1"))]
    if host and host != "localhost":
        names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"plait Dask ({host})")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=True, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write_private(files.key, key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    _write_private(files.cert, cert.public_bytes(pem))
    _write_private(files.ca_file, ca.public_bytes(pem))
    _client_context.cache_clear()


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, 0600."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)  # made 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
