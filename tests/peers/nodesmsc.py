"""The test SMSC of tests/peers/smsc_node (npm `smpp`, farhadi/node-smpp: an SMPP
implementation nobody here wrote), run as a child process for one test.

It behaves like an aggregator's SMPP server (see smsc.js): one account whose password
can change, a submit rate limit answered with ESME_RTHROTTLED, enquire_link probes of
idle sessions and an unbind for those that do not answer, receipts and inbound SMS kept
until a receiver is bound. This wrapper sends it commands (JSON lines on stdin) and
keeps what it tells (JSON lines on stdout) for the tests to read and wait on.
"""

import json
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "smsc_node"


def missing():
    """Why this SMSC cannot start, or "" (make peers installs it)."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm)"
    if not (FOLDER / "node_modules" / "smpp").is_dir():
        return "its npm package is not installed: make peers (npm ci in tests/peers/smsc_node)"
    return ""


@dataclass
class Submit:
    message_id: str
    destination_addr: str
    source_addr: str
    source_addr_ton: int
    source_addr_npi: int
    dest_addr_ton: int
    dest_addr_npi: int
    esm_class: int
    data_coding: int
    registered_delivery: int
    text: str
    udh: tuple | None
    status: int
    session: int
    t: float


@dataclass
class Sms:
    destination_addr: str
    text: str = ""
    parts: list = field(default_factory=list)


class NodeSmsc:
    def __init__(self, **config):
        # SMPP 3.4 passwords hold 8 characters at most.
        self.config = {"system_id": "shopsms", "password": "s3cretpw"} | config
        self.events = []
        self.port = None
        self._changed = threading.Condition()
        self._tags = 0
        self._process = None

    def start(self, port=0):
        self._process = subprocess.Popen(
            ["node", str(FOLDER / "smsc.js"), str(port), json.dumps(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self.wait_for(lambda e: e["event"] == "listening", timeout=10)["port"]
        return self

    def stop(self):
        if self._process and self._process.poll() is None:
            with self._changed:
                self._process.stdin.close()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _read(self):
        for line in self._process.stdout:
            event = json.loads(line)
            with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    # --- waiting on what it tells ---------------------------------------------------------

    def wait_for(self, matches, timeout=5, after=0):
        """The first event from index `after` that `matches`, waiting for it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events[after:]:
                    if matches(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the SMSC did not tell it within {timeout} s")
                self._changed.wait(left)

    def command(self, cmd, **fields):
        self._tags += 1
        tag = self._tags
        with self._changed:
            start = len(self.events)
            self._process.stdin.write(json.dumps({"cmd": cmd, "tag": tag, **fields}) + "\n")
            self._process.stdin.flush()
        self.wait_for(lambda e: e["event"] == "done" and e.get("tag") == tag, after=start)
        return tag

    def of(self, kind, **where):
        with self._changed:
            return [
                e
                for e in self.events
                if e["event"] == kind and all(e.get(k) == v for k, v in where.items())
            ]

    # --- what it got ----------------------------------------------------------------------

    @property
    def submits(self):
        return [
            Submit(
                **{k: (tuple(v) if k == "udh" and v else v) for k, v in e.items() if k != "event"}
            )
            for e in self.of("submit")
        ]

    def messages(self):
        """Accepted parts put back together per (number, reference), in order."""
        whole, open_parts = [], {}
        for part in (s for s in self.submits if not s.status):
            if not part.udh:
                whole.append(Sms(part.destination_addr, part.text, [part]))
                continue
            key = (part.destination_addr, part.udh[0])
            if key not in open_parts:
                open_parts[key] = Sms(part.destination_addr)
                whole.append(open_parts[key])
            open_parts[key].parts.append(part)
        for sms in open_parts.values():
            sms.parts.sort(key=lambda p: p.udh[2])
            sms.text = "".join(p.text for p in sms.parts)
        return whole

    def bound(self, mode):
        """Sessions bound in `mode` and not closed since."""
        closed = {e["session"] for e in self.of("close")} | {
            e["session"] for e in self.of("unbind")
        }
        return [
            e["session"] for e in self.of("bind", mode=mode, status=0) if e["session"] not in closed
        ]

    def wait_for_bind(self, mode, timeout=5, after=0, status=0):
        return self.wait_for(
            lambda e: e["event"] == "bind" and e["mode"] == mode and e["status"] == status,
            timeout,
            after,
        )

    # --- what it does ---------------------------------------------------------------------

    def set(self, **values):
        self.config.update(values)
        self.command("set", values=values)

    def receipt(self, submit, stat="DELIVRD", err="000", *, tlvs=True):
        """Queue a receipt for one part; the tag names its deliver_sm_resp event."""
        return self.command(
            "receipt",
            id=submit.message_id,
            stat=stat,
            err=err,
            tlvs=tlvs,
            phone=submit.destination_addr,
            sender=submit.source_addr,
        )

    def inbound(self, phone, text, *, data_coding=0, to="36608"):
        return self.command(
            "mo", **{"from": phone, "text": text, "data_coding": data_coding, "to": to}
        )

    def answered(self, tag, timeout=5):
        """The ESME's deliver_sm_resp status for a receipt or inbound SMS."""
        return self.wait_for(
            lambda e: e["event"] == "deliver_sm_resp" and e["tag"] == tag, timeout
        )["status"]

    def unbind(self, mode="all"):
        self.command("unbind", mode=mode)

    def throttle_part(self, seq, times=1):
        self.command("throttle_part", seq=seq, times=times)
