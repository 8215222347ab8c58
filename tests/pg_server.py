"""A throw-away PostgreSQL server for the test suite, from the binaries the dev extra installs (``pgserver``).

One server per test session: ``initdb`` into a temporary folder, then ``postgres`` as a child of
the test process, listening only on a Unix socket in that folder, with durability off (fsync,
full-page writes) because nothing in it has to survive. ``stop()`` shuts it down (fast shutdown,
then SIGKILL) and removes the folder; should the test process die first, the kernel sends the
server SIGTERM (``setpriv --pdeathsig``) so no server outlives the run.

Only the ``pgserver`` wheel's ``pginstall/bin`` is used (its Python helpers start a daemon outside
our process tree and change folder permissions, which a test run must not do). Elsewhere:
``ALUR_TEST_PG_BINDIR``, else ``pg_config --bindir`` on PATH, else Debian's /usr/lib/postgresql/N/bin.

PostgreSQL refuses to run as root: under root the server runs as ``nobody`` (the binaries are
copied to a folder ``nobody`` can read when theirs is not, e.g. a virtualenv in a private temp dir).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 30.0


class PgUnavailable(RuntimeError):
    """No PostgreSQL binaries found, or the server would not start."""


def find_bindir() -> Path:
    explicit = os.environ.get("ALUR_TEST_PG_BINDIR")
    if explicit:
        return Path(explicit)
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / "pginstall" / "bin"
        if (candidate / "postgres").exists():
            return candidate
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "postgres").exists():
            return Path(out)
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    if debian:
        return debian[-1].parent
    raise PgUnavailable("no PostgreSQL binaries: install the dev extra (pgserver) or set ALUR_TEST_PG_BINDIR")


class PgServer:
    """A running test server; ``dsn(name)`` is a URL for a database on it."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="alur-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.as_user: pwd.struct_passwd | None = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
        self.bindir = self._usable_bindir(find_bindir())

    @property
    def socket_dir(self) -> Path:
        return self.root

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def start(self) -> PgServer:
        try:
            if self.as_user is not None:
                os.chown(self.root, self.as_user.pw_uid, self.as_user.pw_gid)
            self._run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                       "-E", "UTF8", "--no-locale", "--no-sync"])
            with self.log.open("wb") as log:
                self.process = subprocess.Popen(
                    [*self._as_user(), str(self.bindir / "postgres"), "-D", str(self.data), "-k", str(self.socket_dir),
                     "-h", "", "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
                     "-c", "max_connections=300", "-c", "shared_buffers=64MB"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT), SIGKILL after 15 s; then the folder goes."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------

    def _as_user(self) -> list[str]:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            if self.as_user is not None:
                raise PgUnavailable("running as root needs setpriv (util-linux) to start PostgreSQL as nobody")
            return []
        cmd = [setpriv, "--pdeathsig", "TERM"]
        if self.as_user is not None:
            cmd += [f"--reuid={self.as_user.pw_uid}", f"--regid={self.as_user.pw_gid}", "--clear-groups"]
        return [*cmd, "--"]

    def _run(self, cmd: list[str]) -> None:
        done = subprocess.run([*self._as_user(), *cmd], capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise PgUnavailable(f"{Path(cmd[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        pidfile = self.data / "postmaster.pid"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise PgUnavailable(f"postgres exited ({self.process.returncode}): {self._log_tail()}")
            with contextlib.suppress(OSError):
                lines = pidfile.read_text().splitlines()
                if len(lines) >= 8 and lines[7].strip() == "ready":
                    return
            time.sleep(0.02)
        raise PgUnavailable(f"postgres not ready after {START_TIMEOUT:g} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-2000:]
        return ""

    def _usable_bindir(self, bindir: Path) -> Path:
        """The binaries where ``nobody`` can run them (a copy beside the data when theirs is private)."""
        if self.as_user is None or _world_readable(bindir):
            return bindir
        install = bindir.parent  # …/site-packages/pgserver/pginstall
        base = install.parent.parent
        copy = self.root / "pg"
        for part in ("bin", "lib", "share"):
            if (install / part).exists():
                shutil.copytree(install / part, copy / install.relative_to(base) / part, symlinks=True)
        for libs in base.glob("pgserver*.libs"):  # the wheel's own libpq etc., found through $ORIGIN/../../../
            shutil.copytree(libs, copy / libs.name, symlinks=True)
        for folder in [copy, *copy.rglob("*")]:
            if folder.is_dir():
                folder.chmod(0o755)
        self.root.chmod(0o755)
        return copy / install.relative_to(base) / "bin"


def _world_readable(path: Path) -> bool:
    """Every folder from / down to ``path`` may be entered by others (o+x)."""
    for folder in [path, *path.parents]:
        try:
            if not folder.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True
