"""A real Kannel 1.4.5 for tests: bearerbox, its fake SMSC and smsbox, on free ports.

Debian's `kannel` and `kannel-extras` packages (installed by `.ci/run` and `make test`).
fakesmsc is the phone network's side: it prints every message it gets
("Got message N: <from to type data>") to a file we read, and sends the lines we
write into a FIFO as inbound SMS. The FIFO is opened read-write so that fakesmsc
never sees end of file (it crashes at EOF).
"""

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import requests

FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
USERNAME, PASSWORD = "shopsms", "kannel-pass"
ADMIN_PASSWORD = "admin-pass"

_GOT = re.compile(r"Got message \d+: <(.*)>$", re.M)
_KINDS = ("text", "data", "ucs-2", "udh")
_PR_SET_PDEATHSIG = 1


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def binary(name):
    # /usr/sbin is not on every user's PATH.
    path = shutil.which(name) or f"/usr/sbin/{name}"
    return path if os.path.exists(path) else None


def missing_binaries():
    missing = [name for name in ("bearerbox", "smsbox") if not binary(name)]
    return missing + ([FAKESMSC] if not os.path.exists(FAKESMSC) else [])


def _die_with_parent():
    # Even if pytest itself is killed, the Kannel processes go with it.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class FakeSms:
    """A message as the fake SMSC got it, its parts joined."""

    sender: str
    to: str
    text: str
    parts: int = 1


def _decode(kind, data):
    # Encoded parts use form encoding ("+" for a space); a part's coding is not printed,
    # but UCS-2 French text always has NUL high bytes and UTF-8 never has NULs.
    raw = urllib.parse.unquote_to_bytes(data.replace("+", "%20"))
    if kind == "ucs-2" or b"\x00" in raw:
        return raw.decode("utf-16-be")
    return raw.decode("utf-8")


def parse_message(message):
    """'from to text Hello', 'from to ucs-2 %00R...' or 'from to udh %05... data ...'
    → (sender, to, text, (reference, total, sequence) or None)."""
    sender, to, kind, rest = message.split(" ", 3)
    if kind not in _KINDS:
        raise ValueError(message)
    udh = None
    if kind == "udh":
        header, kind, rest = rest.split(" ", 2)
        octets = urllib.parse.unquote_to_bytes(header)
        udh = (octets[3], octets[4], octets[5])  # 8-bit reference concatenation IE
    if kind == "text":
        return sender, to, rest, udh  # printed as is, newlines included
    return sender, to, _decode(kind, rest), udh


def config(directory, ports, mo_url):
    return f"""
group = core
admin-port = {ports["admin"]}
admin-password = {ADMIN_PASSWORD}
admin-interface = 127.0.0.1
admin-allow-ip = "127.0.0.1"
smsbox-port = {ports["smsbox"]}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "{directory}/bearerbox.log"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = FAKE
port = {ports["smsc"]}
our-host = 127.0.0.1
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {ports["smsbox"]}
sendsms-port = {ports["sendsms"]}
sendsms-interface = 127.0.0.1
log-file = "{directory}/smsbox.log"
mo-recode = true
reply-couldnotfetch = ""
reply-requestfailed = ""

group = sendsms-user
username = {USERNAME}
password = {PASSWORD}
max-messages = 3
concatenation = true

group = sms-service
keyword = default
get-url = "{mo_url}"
max-messages = 1
omit-empty = true
"""


class Kannel:
    def __init__(self, directory, mo_url):
        self.directory = Path(directory)
        self.ports = {name: free_port() for name in ("admin", "smsbox", "smsc", "sendsms")}
        self.conf = self.directory / "kannel.conf"
        self.conf.write_text(config(self.directory, self.ports, mo_url))
        self.fifo = self.directory / "mo.fifo"
        self.output = self.directory / "fakesmsc.out"
        self.processes = []
        self._fifo_fd = None

    @property
    def sendsms_url(self):
        return f"http://127.0.0.1:{self.ports['sendsms']}/cgi-bin/sendsms"

    def start(self):
        try:
            self._spawn("bearerbox", [binary("bearerbox"), "-v", "0", str(self.conf)])
            self._wait(lambda: "SMSC connections" in self.status(), "bearerbox")
            os.mkfifo(self.fifo)
            self._fifo_fd = os.open(self.fifo, os.O_RDWR)
            fake = [
                FAKESMSC,
                "-H",
                "127.0.0.1",
                "-r",
                str(self.ports["smsc"]),
                "-i",
                "0",
                "-v",
                "0",
            ]
            self._spawn("fakesmsc", fake, stdin=self._fifo_fd, stdout=self.output)
            self._wait(lambda: re.search(r"FAKE\[FAKE\].*online", self.status()), "fakesmsc")
            self._spawn("smsbox", [binary("smsbox"), "-v", "0", str(self.conf)])
            self._wait(lambda: "smsbox:(none)" in self.status() and self._sendsms_up(), "smsbox")
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, name, command, *, stdin=subprocess.DEVNULL, stdout=None):
        out = open(stdout or self.directory / f"{name}.out", "wb")  # noqa: SIM115
        with out:
            process = subprocess.Popen(
                command,
                cwd=self.directory,
                stdin=stdin,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        self.processes.append((name, process))

    def _wait(self, ready, name, timeout=10):
        deadline = time.monotonic() + timeout
        while not ready():
            for process_name, process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process_name} exited; see {self.directory}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {timeout} s; see {self.directory}")
            time.sleep(0.05)

    def status(self):
        url = f"http://127.0.0.1:{self.ports['admin']}/status.txt"
        try:
            return requests.get(url, params={"password": ADMIN_PASSWORD}, timeout=2).text
        except requests.RequestException:
            return ""

    def _sendsms_up(self):
        try:
            requests.get(self.sendsms_url, timeout=2)
        except requests.RequestException:
            return False
        return True

    def stop(self):
        """smsbox, fakesmsc, then bearerbox; nothing is kept, so a stubborn box is killed."""
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                process.kill()  # bearerbox can hang on shutdown; its state is in memory only
                process.wait()
        self.processes = []
        if self._fifo_fd is not None:
            os.close(self._fifo_fd)
            self._fifo_fd = None

    # --- the phone network's side -------------------------------------------------

    def lines(self):
        """What fakesmsc printed for each SMS (one entry per part), in order."""
        if not self.output.exists():
            return []
        text = self.output.read_text(encoding="utf-8", errors="replace")
        return _GOT.findall(text)

    def received(self):
        """Every message the SMSC got, concatenated parts joined, in order of arrival."""
        messages, pending = [], {}
        for line in self.lines():
            try:
                sender, to, text, udh = parse_message(line)
            except ValueError:
                # The fake SMSC's protocol is one line per SMS and sends text raw: a
                # newline in a one-part text shows up as a "message" of its own.
                last = messages.pop()
                messages.append(FakeSms(last.sender, last.to, f"{last.text}\n{line}"))
                continue
            if udh is None:
                messages.append(FakeSms(sender, to, text))
                continue
            reference, total, sequence = udh
            parts = pending.setdefault((to, reference), {})
            parts[sequence] = text
            if len(parts) == total:
                joined = "".join(parts[i] for i in sorted(parts))
                messages.append(FakeSms(sender, to, joined, parts=total))
                del pending[(to, reference)]
        return messages

    def sent_count(self):
        if not self.output.exists():
            return 0
        return self.output.read_text(encoding="utf-8", errors="replace").count("fakesmsc: sent")

    def send_mo(self, sender, to, text):
        """An SMS from a phone: the line goes to fakesmsc through its FIFO. One at a time:
        fakesmsc leaves a second line read in the same go unsent until more input comes."""
        before = self.sent_count()
        with open(self.fifo, "w", encoding="ascii") as fifo:
            fifo.write(f"{sender} {to} text {text}\n")
        self.wait_for(lambda: self.sent_count() > before, what="fakesmsc sending the SMS")

    def all_at_smsc(self):
        """bearerbox has nothing queued and fakesmsc has printed all it was sent (its
        output lags behind the delivery reports)."""
        found = re.search(
            r"^SMS: received \d+ \((\d+) queued\), sent (\d+) \((\d+) queued\)", self.status(), re.M
        )
        if not found:
            return False
        incoming, sent, outgoing = map(int, found.groups())
        return incoming == outgoing == 0 and len(self.lines()) == sent

    def wait_for(self, condition, timeout=10, what="Kannel"):
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: still waiting after {timeout} s ({self.directory})")
            time.sleep(0.05)
