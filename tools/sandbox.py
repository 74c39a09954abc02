"""sandbox.py — run one untrusted command with limits, and always come back.

What this is
------------
The course tooling runs code it does not trust: a student's solution under
the lab's tests (tools/grade.py), a student's tests against the reference
and the mutants (tools/grade_tests.py). Such code may crash, hang, fork
without end, eat all memory or print gigabytes. `Sandbox.run()` runs one
command so that each of those ends as a *result* (a timeout, a signal,
truncated output) and never as a hung or dead grader.

Interface
---------
    box = Sandbox(tmp="/path/for/work/dirs")
    lim = Limits(timeout=10, nproc=64, mem_mb=1024, mode="asan")
    r = box.run(["prog", "--flag"], env=..., limits=lim, keep=False)
    r.rc, r.signal, r.timed_out, r.output (str: head and tail), r.truncated
    r.workdir   # with keep=True: the command's work dir (caller removes it)

Every command gets a fresh, empty work dir (its cwd, HOME and TMPDIR), and
the tree it runs from must be readable by others (Sandbox.share()).
run() is safe to call from several threads at once.

Isolation: which sandbox runs
-----------------------------
`Sandbox(kind=None)` picks the strongest isolation the machine allows
(`detect()`; KVLABS_SANDBOX=bwrap|uid|none forces one), and `box.kind`
says which one it is, for the results:

- "bwrap": bubblewrap (Debian's `bubblewrap`) gives each command its own
  mount, pid, ipc, uts and network namespaces. It sees the system's
  /usr, /etc (and the /bin, /lib symlinks) read-only, a fresh /tmp,
  /dev/shm, /dev and /proc, the trees of `visible` (Sandbox(visible=...))
  read-only, and its work dir and `writable` trees read-write; nothing
  else: not the repository, not /work, not /root, no network. As root the
  command also runs under its own fresh uid (setpriv inside the sandbox);
  as an ordinary user bubblewrap uses a user namespace.
- "uid": as root without a usable bubblewrap (a container without user
  namespaces, as on Gradescope), the fresh uid alone: the command sees
  every file that "others" may read, so what the grader keeps must be
  0700 root (grade.py's private/ folder, the reference cache) and the
  repository itself must not be readable by others (tools/grader/
  Dockerfile makes /autograder/source 0700).
- "none": not root and no bubblewrap: no isolation at all. Sandbox()
  refuses it (Unisolated) unless allow_unisolated=True (the graders'
  --no-isolation flag, or GRADE_ALLOW_UNISOLATED=1), and the results say so.
- "trusted": the grader's own commands (the reference's tests and
  benchmark): limits and timeouts only, as the grader's user.

How it works
------------
- Limits are set by util-linux's `prlimit` on itself before it executes the
  command, so they hold in the command and every process it starts:
  RLIMIT_NPROC (processes and threads of the user), RLIMIT_CPU (a backstop
  behind the wall-clock timeout), RLIMIT_FSIZE (largest file written),
  RLIMIT_CORE 0, and RLIMIT_AS (address space) — but not for a program
  built with AddressSanitizer: ASan reserves terabytes of virtual address
  space for its shadow memory and cannot start under any useful RLIMIT_AS.
  For ASan runs the memory cap is ASan's own: ASAN_OPTIONS
  hard_rss_limit_mb=N (a background thread kills the process when its
  resident size passes N MiB) and max_allocation_size_mb=N (a single larger
  allocation fails). Valgrind runs get a larger RLIMIT_AS, since Valgrind
  itself and its shadow memory count too.
- RLIMIT_NPROC does not bind root. When the grader runs as root (as in a
  Gradescope container) every command runs under its own fresh unprivileged
  uid, through `setpriv --reuid/--regid --clear-groups`. The process limit
  then counts exactly that command's processes, and cleanup is exact: after
  the command, if any process of that uid is left, a shell running *as
  that uid* calls kill(-1, SIGSTOP) — a stopped process cannot fork, so a
  fork bomb stops growing — then kill(-1, SIGKILL), which reaches every
  process of the uid, including those that left the process group with
  setsid(). Zombies the container's init
  has not reaped yet cannot hurt the next command: it has another uid. As
  an ordinary user, the limit is the user's current task count plus the
  budget, and cleanup is the process group.
- The command starts in a new session (its own process group). Its stdout
  and stderr share one pipe, read with a deadline: the first `cap` bytes
  and the last `tail` bytes are kept (the end holds Criterion's summary
  line), everything between is counted and dropped, so a program printing
  gigabytes costs the grader nothing. At the deadline the process group is
  killed; children that keep the pipe open after the command exited get
  two seconds of grace.
"""
import itertools
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time

# Set by stop_all(): running commands are killed, new ones refused.
_STOP = threading.Event()

# Bytes of output kept from the start and from the end of a command's output.
OUTPUT_CAP = 64 * 1024
OUTPUT_TAIL = 8 * 1024

# What a bubblewrap sandbox sees read-only of the system (/bin, /lib, ...
# are symlinks into /usr on a merged-/usr system, and bound as such).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
KINDS = ("bwrap", "uid", "none", "trusted")
DESCRIPTIONS = {
    "bwrap": "bubblewrap (own mount, pid and network namespaces; only the graded tree "
             "visible; a fresh uid when root)",
    "uid": "a fresh unprivileged uid per command (setpriv); no mount isolation: files "
           "readable by others are visible",
    "none": "NO ISOLATION (not root and no bubblewrap; allowed by --no-isolation / "
            "GRADE_ALLOW_UNISOLATED=1): the submission could read the reference",
    "trusted": "the grader's own commands (no isolation)",
}


class Unisolated(RuntimeError):
    """No sandbox can isolate the submission here, and nobody allowed that."""


# Run as a command's uid after it: stop, then kill, every process of the uid
# (dash's kill builtin; kill(-1) spares only the caller itself).
_KILL_ALL = "; ".join(["kill -s STOP -- -1 2>/dev/null"] * 3 + ["kill -s KILL -- -1 2>/dev/null"] * 3)


class Limits:
    """Resource limits of one command.

    mode: "asan" (ASan/UBSan build: no RLIMIT_AS, ASan's allocator limits),
    "asan-script" (the same without hard_rss_limit_mb, whose background
    thread changes what a debugger shows: for scripts that run gdb),
    "valgrind" (RLIMIT_AS = 3 x mem + 1 GiB), or "plain" (RLIMIT_AS = mem +
    256 MiB for the program's own code and stacks).
    """

    def __init__(self, timeout=10.0, nproc=64, mem_mb=1024, fsize_mb=256, mode="plain",
                 cap=OUTPUT_CAP, tail=OUTPUT_TAIL):
        self.timeout = float(timeout)
        self.nproc = int(nproc)
        self.mem_mb = int(mem_mb)
        self.fsize_mb = int(fsize_mb)
        self.mode = mode
        self.cap = cap
        self.tail = tail


class Result:
    """What became of one command."""

    def __init__(self):
        self.rc = None          # exit status, or None when killed by a signal
        self.signal = None      # the signal that ended it, if any
        self.timed_out = False  # killed at the deadline
        self.output = ""        # head (and tail) of stdout+stderr, decoded
        self.total_bytes = 0    # everything it printed
        self.truncated = False
        self.elapsed = 0.0
        self.error = None       # the command could not be started
        self.workdir = None     # kept work dir (run(..., keep=True))
        self.stretch = 1.0      # the deadline's load stretch (load_stretch())

    def ok(self):
        return self.rc == 0 and not self.timed_out

    def describe(self):
        """One line: how the command ended."""
        if self.error:
            return "could not run: %s" % self.error
        if self.timed_out:
            if self.stretch > 1.0:
                return "timed out after %.0f s (killed; the deadline was stretched %.1fx for " \
                       "the machine's load)" % (self.elapsed, self.stretch)
            return "timed out after %.0f s (killed)" % self.elapsed
        if self.signal:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = "signal %d" % self.signal
            return "killed by %s" % name
        return "exit status %d" % self.rc


STRETCH_MAX = 8.0


def load_stretch():
    """How much a wall-clock deadline is stretched now: the 1-minute load
    average per core, at least 1 and at most STRETCH_MAX.

    A grade must not depend on what else the machine runs. On an idle
    machine (load <= cores) deadlines are as written; on a machine loaded 3
    runs per core every command gets 3x the time, since each of its
    processes gets about a third of a core. The CPU-time limit (RLIMIT_CPU,
    the timeout + 5 s) is not stretched: CPU time does not grow with load,
    so a busy loop is still stopped at the written budget. Sampled when each
    command starts. KVLABS_GRADE_STRETCH=X fixes the factor (1 turns the
    stretch off; the tests use it)."""
    fixed = os.environ.get("KVLABS_GRADE_STRETCH")
    if fixed:
        try:
            return max(1.0, float(fixed))
        except ValueError:
            pass
    try:
        per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:
        return 1.0
    return min(STRETCH_MAX, max(1.0, per_core))


def _user_tasks(uid):
    """Number of tasks (processes and threads) owned by uid: what RLIMIT_NPROC counts."""
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.stat("/proc/" + pid).st_uid != uid:
                continue
            n += len(os.listdir("/proc/%s/task" % pid))
        except OSError:
            continue
    return n


def stop_all(*_args):
    """Kill every running command and refuse new ones, then exit: the
    handler of SIGTERM and SIGINT in the tools (the process's cleanups run)."""
    _STOP.set()
    raise SystemExit(130)


def install_stop_handlers():
    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)


def _remove_leftovers(uid):
    """Remove what the command's uid left in the shared temporary folders.

    Programs that ignore TMPDIR leave files there: Criterion's runner binds
    /tmp/criterion_<pid>.sock and leaves it when killed. Another uid cannot
    remove it from the sticky /tmp, so a later runner that happens to get
    the same pid would fail to start. The uid is this command's alone, so
    everything it owns there is its own."""
    for top in ("/tmp", "/var/tmp", "/dev/shm"):
        try:
            names = os.listdir(top)
        except OSError:
            continue
        for n in names:
            p = os.path.join(top, n)
            try:
                if os.lstat(p).st_uid != uid:
                    continue
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    os.unlink(p)
            except OSError:
                pass


def _has_processes(uid):
    """Whether a live (not zombie) process of uid exists."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.stat("/proc/" + pid).st_uid != uid:
                continue
            with open("/proc/%s/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    return True
        except (OSError, IndexError):
            continue
    return False


def _chown_tree(top, uid):
    os.makedirs(top, exist_ok=True)
    os.chown(top, uid, uid)
    for d, dirs, files in os.walk(top):
        for n in dirs + files:
            os.lchown(os.path.join(d, n), uid, uid)


def _bwrap_system_args():
    argv = []
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            argv += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    return argv


def _bwrap_works(root):
    """Whether bubblewrap can start a sandbox here (as Sandbox would)."""
    if not shutil.which("bwrap"):
        return False
    argv = _bwrap_prefix(root, "/", (), ()) + ["true"]
    try:
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _bwrap_prefix(root, cwd, visible, writable):
    # As root: no user namespace (the fresh uid is set inside by setpriv,
    # which needs root's capabilities); otherwise a user namespace is what
    # lets an ordinary user build the sandbox at all.
    ns = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
          "--unshare-cgroup-try"] if root else ["--unshare-all"]
    argv = ["bwrap", "--die-with-parent", "--new-session"] + ns + _bwrap_system_args()
    argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp",
             "--perms", "1777", "--tmpfs", "/dev/shm", "--dir", "/var/tmp"]
    # The folders above the bound trees: bubblewrap would create them
    # root-only (0700), which the fresh uid could not cross.
    trees = [os.path.abspath(t) for t in tuple(visible) + tuple(writable)]
    above = set()
    for t in trees:
        d = os.path.dirname(t)
        while d not in ("/", "/tmp") and not any(d == u or d.startswith(u + "/") for u in trees):
            above.add(d)
            d = os.path.dirname(d)
    for d in sorted(above, key=lambda x: x.count("/")):
        argv += ["--perms", "0755", "--dir", d]
    for t in visible:
        argv += ["--ro-bind", t, t]
    for t in writable:
        argv += ["--bind", t, t]
    return argv + ["--chdir", cwd, "--"]


def detect(allow_unisolated=False):
    """The strongest sandbox kind this machine allows: "bwrap", "uid", or
    "none" (only with allow_unisolated; else Unisolated is raised).
    KVLABS_SANDBOX=bwrap|uid|none forces a kind (to test the fallbacks)."""
    root = os.geteuid() == 0
    want = os.environ.get("KVLABS_SANDBOX", "")
    if want and want not in KINDS[:3]:
        raise RuntimeError("sandbox: KVLABS_SANDBOX=%s: use bwrap, uid or none" % want)
    if want == "bwrap" or (not want and _bwrap_works(root)):
        if want and not _bwrap_works(root):
            raise RuntimeError("sandbox: KVLABS_SANDBOX=bwrap, but bubblewrap cannot start "
                               "a sandbox here")
        return "bwrap"
    if want == "uid" or (not want and root):
        if not root:
            raise RuntimeError("sandbox: KVLABS_SANDBOX=uid needs root")
        return "uid"
    if allow_unisolated:
        return "none"
    raise Unisolated("no sandbox is available: not root and bubblewrap cannot run here "
                     "(install `bubblewrap`, or allow user namespaces). Refusing to run "
                     "untrusted code without isolation; --no-isolation (or "
                     "GRADE_ALLOW_UNISOLATED=1) grades anyway, and the results say so.")


def allow_unisolated_env():
    return os.environ.get("GRADE_ALLOW_UNISOLATED", "") not in ("", "0")


class Sandbox:
    """Runs untrusted commands (see "Isolation" above for the kinds)."""

    def __init__(self, tmp=None, jobs=2, kind=None, visible=(), allow_unisolated=False):
        self.root = os.geteuid() == 0
        self.kind = kind or detect(allow_unisolated)
        if self.kind not in KINDS:
            raise RuntimeError("sandbox: unknown kind %r" % self.kind)
        self.visible = tuple(visible)
        self.uses_uids = self.root and self.kind in ("bwrap", "uid")
        for tool in ("prlimit",) + (("setpriv",) if self.uses_uids else ()):
            if not shutil.which(tool):
                raise RuntimeError("sandbox: %s (util-linux) is required" % tool)
        self.tmp = tmp or tempfile.gettempdir()
        os.makedirs(self.tmp, exist_ok=True)
        self.jobs = jobs
        # 10000 uids per grader process, distinct between concurrent graders.
        base = int(os.environ.get("KVLABS_GRADE_UID", "0") or 0)
        self.uid_base = base or 100000 + (os.getpid() % 1000) * 10000
        self._uids = itertools.count()
        self._lock = threading.Lock()
        self.base_tasks = 0 if self.root else _user_tasks(os.getuid())
        # bubblewrap's setup and teardown (mounts, namespaces: ~0.02 s idle,
        # 0.2 s on a machine loaded 8x over) is not the command's time: the
        # wall-clock deadline gets this much more, so that a test near its
        # timeout does not fail for the sandbox's sake.
        self.setup_allowance = 0.5 if self.kind == "bwrap" else 0.0

    def describe(self):
        """One line for the results: which sandbox ran the commands."""
        return "%s: %s" % (self.kind, DESCRIPTIONS[self.kind])

    def _next_uid(self):
        if not self.uses_uids:
            return None
        with self._lock:
            return self.uid_base + next(self._uids) % 10000

    @staticmethod
    def share(tree):
        """Make a tree readable (and its dirs searchable) by the sandbox uids."""
        os.chmod(tree, os.stat(tree).st_mode | 0o755)
        for d, dirs, files in os.walk(tree):
            for n in dirs:
                p = os.path.join(d, n)
                if not os.path.islink(p):
                    os.chmod(p, os.stat(p).st_mode | 0o755)
            for n in files:
                p = os.path.join(d, n)
                if not os.path.islink(p):
                    os.chmod(p, os.stat(p).st_mode | 0o444)

    def _argv(self, cmd, lim, uid, cwd=None, writable=()):
        nproc = lim.nproc if uid is not None else self.base_tasks + lim.nproc * (self.jobs + 1)
        argv = ["prlimit", "--nproc=%d" % nproc, "--cpu=%d" % (int(lim.timeout) + 5),
                "--core=0", "--fsize=%d" % (lim.fsize_mb << 20)]
        if lim.mode == "plain":
            argv.append("--as=%d" % ((lim.mem_mb + 256) << 20))
        elif lim.mode == "valgrind":
            argv.append("--as=%d" % ((3 * lim.mem_mb + 1024) << 20))
        argv.append("--")
        if self.kind == "bwrap":
            argv += _bwrap_prefix(self.root, cwd, self.visible, writable)
        if uid is not None:
            argv += ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", "--"]
        return argv + list(cmd)

    @staticmethod
    def _env(env, lim, workdir):
        e = dict(os.environ if env is None else env)
        e["HOME"] = e["TMPDIR"] = workdir
        if lim.mode.startswith("asan"):
            cap = "max_allocation_size_mb=%d" % lim.mem_mb
            if lim.mode == "asan":
                cap = "hard_rss_limit_mb=%d:%s" % (lim.mem_mb, cap)
            e["ASAN_OPTIONS"] = cap + (":" + e["ASAN_OPTIONS"] if e.get("ASAN_OPTIONS") else "")
            e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        return e

    def _cleanup(self, proc, uid):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        # Most commands leave nothing behind: then there is nothing to kill,
        # and nothing can appear (no process of the uid is left to fork).
        for _ in range(5):
            if uid is None or not _has_processes(uid):
                break
            subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups",
                            "--", "/bin/sh", "-c", _KILL_ALL], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
            time.sleep(0.05)
        if uid is not None:
            _remove_leftovers(uid)

    def run(self, cmd, env=None, limits=None, keep=False, writable=(), cwd=None):
        """Run cmd (a list) under limits in a fresh work dir; return a Result.

        writable: trees the command may write (given to its uid first);
        cwd: where it runs (default: its work dir)."""
        lim = limits or Limits()
        uid = self._next_uid()
        res = Result()
        if _STOP.is_set():
            res.error = "interrupted"
            return res
        workdir = tempfile.mkdtemp(prefix="run.", dir=self.tmp)
        if uid is not None:
            for top in (workdir,) + tuple(writable):
                _chown_tree(top, uid)
        try:
            self._run(cmd, env, lim, uid, cwd or workdir, workdir, res,
                      (workdir,) + tuple(writable))
        finally:
            if keep:
                res.workdir = workdir
            else:
                shutil.rmtree(workdir, ignore_errors=True)
        return res

    def _run(self, cmd, env, lim, uid, cwd, workdir, res, writable):
        head, tail = bytearray(), bytearray()
        start = time.monotonic()
        try:
            proc = subprocess.Popen(self._argv(cmd, lim, uid, cwd, writable), cwd=cwd,
                                    env=self._env(env, lim, workdir), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as e:
            res.error = str(e)
            return
        try:
            self._wait(proc, lim, res, start, head, tail, self.setup_allowance)
        finally:  # also when the grader itself is interrupted
            self._cleanup(proc, uid)
            proc.stdout.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        res.elapsed = time.monotonic() - start
        if res.timed_out:
            res.signal = signal.SIGKILL
        elif proc.returncode is not None and proc.returncode < 0:
            res.signal = -proc.returncode
        else:
            res.rc = proc.returncode
        res.truncated = res.total_bytes > len(head) + len(tail)
        text = head.decode("utf-8", "replace")
        if tail:
            if res.truncated:
                text += "\n[... %d bytes of output dropped ...]\n" % (
                    res.total_bytes - len(head) - len(tail))
            text += tail.decode("utf-8", "replace")
        res.output = text

    @staticmethod
    def _wait(proc, lim, res, start, head, tail, allowance=0.0):
        """Read the command's output until EOF or the deadline (the limit's
        timeout stretched by the machine's load: load_stretch())."""
        res.stretch = load_stretch()
        deadline = start + lim.timeout * res.stretch + allowance
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        fd = proc.stdout.fileno()
        eof = False
        exited_at = None
        # Read until EOF. The deadline also covers children that keep the pipe
        # open; once the command itself has exited they get 2 s of grace.
        while not eof:
            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            limit = deadline if exited_at is None else min(deadline, exited_at + 2.0)
            if _STOP.is_set():
                res.error = "interrupted"
                break
            if now >= limit:
                res.timed_out = exited_at is None
                break
            for _key, _ev in sel.select(timeout=min(limit - now, 0.5)):
                chunk = os.read(fd, 65536)
                if not chunk:
                    eof = True
                    break
                res.total_bytes += len(chunk)
                room = lim.cap - len(head)
                if room > 0:
                    head += chunk[:room]
                    chunk = chunk[room:]
                if chunk:
                    tail += chunk
                    if len(tail) > lim.tail:
                        del tail[:len(tail) - lim.tail]
        if eof and not res.timed_out:
            try:  # output closed: the command may still be running
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                res.timed_out = True
        sel.close()


def clip(text, limit=16 * 1024):
    """Shorten text to about limit characters, keeping its start and end."""
    if len(text) <= limit:
        return text
    keep = limit // 2
    return text[:keep] + "\n[... %d characters cut ...]\n" % (len(text) - 2 * keep) + text[-keep:]
