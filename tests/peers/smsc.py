"""A small SMSC for tests, on the server side of smpp34 (a separate SMPP implementation,
Rust core): it accepts binds, records every submit_sm, answers with message ids (or
refuses chosen numbers), and pushes delivery receipts and inbound SMS as deliver_sm.

It runs its asyncio loop in a thread on a free 127.0.0.1 port; stop() leaves nothing
behind. Texts are decoded here with smpplib's GSM table, not ShopSMS's, so that the
tests compare our encoding with an independent reading of it.
"""

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field

import smpp34
from smpplib.gsm import GSM_CHARACTER_TABLE

RECEIPT_STATES = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5, "REJECTD": 8}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def decode(short_message, data_coding):
    if data_coding == 8:
        return short_message.decode("utf-16-be")
    chars, data = [], iter(short_message)
    for octet in data:
        chars.append(
            GSM_CHARACTER_TABLE[0x80 + next(data)] if octet == 0x1B else GSM_CHARACTER_TABLE[octet]
        )
    return "".join(chars)


@dataclass
class Submit:
    """One submit_sm as the SMSC got it."""

    message_id: str
    source_addr: str
    source_addr_ton: int
    source_addr_npi: int
    destination_addr: str
    dest_addr_ton: int
    dest_addr_npi: int
    esm_class: int
    data_coding: int
    registered_delivery: int
    text: str  # this part's text, UDH removed
    udh: tuple = ()  # (reference, total, sequence) for a part of a long message
    status: int = 0


@dataclass
class Sms:
    """A whole message, its parts put back together."""

    destination_addr: str
    text: str
    data_coding: int
    parts: list = field(default_factory=list)

    @property
    def last_id(self):
        return self.parts[-1].message_id


class SmscPeer:
    def __init__(self, port=None, system_id="TESTSMSC"):
        self.port = port or free_port()
        self.system_id = system_id
        self.submits: list[Submit] = []
        self.refuse: dict[str, int] = {}  # destination_addr -> command_status
        self._sessions = {}  # session_id -> Esme
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server = None
        self._task = None
        self._count = 0

    # --- life -------------------------------------------------------------------------

    def start(self):
        self._thread.start()
        self._call(self._start())
        return self

    async def _start(self):
        self._server = smpp34.Server("127.0.0.1", self.port, system_id=self.system_id)
        await self._server.start()
        self._task = asyncio.ensure_future(self._serve())

    def stop(self):
        if self._loop.is_closed():
            return

        async def shutdown():
            self._task.cancel()
            await self._server.stop()

        self._call(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _call(self, coroutine, timeout=5):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _serve(self):
        while True:
            event = await self._server.next()
            if isinstance(event, smpp34.Esme):
                self._sessions[event.session_id] = event
            elif isinstance(event, smpp34.Unbound):
                self._sessions.pop(event.session_id, None)
            elif isinstance(event, smpp34.SubmitSmEvent):
                self._answer(event)

    def _answer(self, event):
        data, udh = event.short_message, ()
        if event.esm_class & 0x40:
            header, data = data[: data[0] + 1], data[data[0] + 1 :]
            if header[1] == 0x00:  # concatenated SMS, 8-bit reference
                udh = (header[3], header[4], header[5])
        status = self.refuse.get(event.destination_addr, 0)
        self._count += 1
        message_id = "" if status else f"SMSC{self._count:05d}"
        self.submits.append(
            Submit(
                message_id=message_id,
                source_addr=event.source_addr,
                source_addr_ton=event.source_addr_ton,
                source_addr_npi=event.source_addr_npi,
                destination_addr=event.destination_addr,
                dest_addr_ton=event.dest_addr_ton,
                dest_addr_npi=event.dest_addr_npi,
                esm_class=event.esm_class,
                data_coding=event.data_coding,
                registered_delivery=event.registered_delivery,
                text=decode(data, event.data_coding),
                udh=udh,
                status=status,
            )
        )
        if status:
            event.reject(status)
        else:
            event.accept(message_id)

    # --- what the tests read ----------------------------------------------------------

    def messages(self):
        """Accepted submits as whole messages, in the order they came."""
        whole, open_parts = [], {}
        for part in (s for s in self.submits if not s.status):
            if not part.udh:
                whole.append(Sms(part.destination_addr, part.text, part.data_coding, [part]))
                continue
            key = (part.destination_addr, part.udh[0])
            sms = open_parts.get(key)
            if sms is None:
                sms = open_parts[key] = Sms(part.destination_addr, "", part.data_coding)
                whole.append(sms)
            sms.parts.append(part)
            sms.text += part.text
        return whole

    def wait_for_receiver(self, timeout=5, other_than=None):
        """The session_id of a bound receiver (or transceiver), once there is one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            session = self._receiver()
            if session is not None and session.session_id != other_than:
                return session.session_id
            time.sleep(0.02)
        raise AssertionError("no receiver bound to the test SMSC")

    def unbind_receivers(self):
        """The SMSC ends its receiving sessions, as one does before a restart."""

        async def unbind(sessions):
            for session in sessions:
                await session.unbind()

        self._call(unbind([s for s in list(self._sessions.values()) if s.can_receive]))

    def _receiver(self):
        return next((s for s in list(self._sessions.values()) if s.can_receive), None)

    # --- what the SMSC pushes ---------------------------------------------------------

    def push_receipt(self, submit, stat="DELIVRD", err="000", *, tlvs=True):
        """A delivery receipt for one submit_sm, as operators write them: the text
        always, the receipted_message_id and message_state TLVs when `tlvs`."""
        text = (
            f"id:{submit.message_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
            f"submit date:2611241000 done date:2611241001 stat:{stat} err:{err} text:"
        )
        options = []
        if tlvs:
            options = [
                smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID, submit.message_id.encode() + b"\0"),
                smpp34.Tlv(smpp34.TLV_MESSAGE_STATE, bytes((RECEIPT_STATES[stat],))),
            ]
        return self._deliver(
            submit.source_addr,
            text.encode(),
            source_addr=submit.destination_addr,
            source_addr_ton=1,
            source_addr_npi=1,
            esm_class=0x04,
            tlvs=options,
        )

    def push_inbound(self, source_addr, text, *, data_coding=0, to="36608"):
        """An SMS a client sends: data_coding 0 (GSM, ASCII texts here) or 8 (UCS-2)."""
        data = text.encode("utf-16-be") if data_coding == 8 else text.encode("ascii")
        return self._deliver(
            to,
            data,
            source_addr=source_addr,
            source_addr_ton=1,
            source_addr_npi=1,
            data_coding=data_coding,
        )

    def _deliver(self, destination_addr, short_message, **fields):
        session = self._receiver()
        assert session is not None, "no receiver bound to the test SMSC"

        async def push():
            return await session.deliver_sm(destination_addr, short_message, **fields)

        return self._call(push()).command_status
