"""SMPP 3.4 to an operator or aggregator (smpplib): submit_sm out, deliver_sm in.

Two links, as operators expect them: workers bind as a transmitter to submit; one
`flask smpp receive` process binds as a receiver and turns deliver_sm into delivery
reports (services/delivery.py) or inbound SMS (services/inbound.py).

Workers keep one transmitter per process and reuse it from batch to batch: the sending
service calls submit() once per second on a throttled link, and binding that often is
slow and gets ESMEs throttled or banned by SMSCs. The link is checked with an
enquire_link before each use and bound again when the SMSC dropped it.

A long text goes as concatenated parts (8-bit UDH reference), cut by
shopsms.sms.encoding.split so that what goes out is exactly what was costed and
charged. The SMSC names each part with its own message id and sends a receipt for each:
the message's gateway_ref is the last part's id and every part is recorded
(models.MessagePart), so the message is as good as its worst part
(services/delivery.py): « Délivré » only when every part is.
"""

import atexit
import contextlib
import logging
import re
import select
import signal
import threading
import time
from dataclasses import dataclass

import click
import smpplib.client
import smpplib.consts as consts
import smpplib.exceptions
import smpplib.smpp
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from ..sms import encoding
from ..sms.said import N_, readable
from .base import GatewayUnavailable, OutgoingSms, Report, Submitted, callbacks, settings_config

log = logging.getLogger(__name__)

# smpplib logs every PDU in hex at DEBUG, bind PDUs (and so the password) included:
# its loggers stay at INFO whatever the application's level.
WIRE_LOGGER = "shopsms.smpp.wire"
logging.getLogger(WIRE_LOGGER).setLevel(logging.INFO)

DATA_CODING_GSM = 0x00  # SMSC default alphabet: GSM 03.38, one septet per octet
DATA_CODING_LATIN1 = 0x03
DATA_CODING_UCS2 = 0x08
ESM_UDHI = 0x40
ESM_RECEIPT = 0x04
TON_INTERNATIONAL, TON_NATIONAL, TON_ALPHANUMERIC = 0x01, 0x02, 0x05
NPI_UNKNOWN, NPI_ISDN = 0x00, 0x01

LinkErrors = (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError)


class SmppUnavailable(GatewayUnavailable):
    """The SMSC cannot be reached or refuses our bind: nothing was sent."""


class SmppInterrupted(RuntimeError):
    """The link failed during the first message of a call: whether it left is unknown
    (its receipt will tell; the sweep decides on the rows meanwhile)."""


_INTERRUPTED = N_("Envoi SMPP interrompu : %(error)s")


def _words(error):
    """A link error's words: its sentence (N_) when it has one, else its text."""
    if len(error.args) == 1 and hasattr(error.args[0], "msgid"):
        return error.args[0]
    return str(error) or type(error).__name__


# --- GSM 03.38 and UCS-2 --------------------------------------------------------------

# Our own table, the one the costing uses: smpplib's has "`" where GSM 03.38 has "§".
# GSM_BASIC leaves out ESC (0x1B), so codes after it are one further on.
_GSM_CODES = {char: code + (code >= 0x1B) for code, char in enumerate(encoding.GSM_BASIC)}
_GSM_ESCAPED = dict(
    zip(encoding.GSM_EXTENSION, b"\x0a\x14\x28\x29\x2f\x3c\x3d\x3e\x40\x65", strict=True)
)
_GSM_CHARS = {code: char for char, code in _GSM_CODES.items()}
_GSM_UNESCAPED = {code: char for char, code in _GSM_ESCAPED.items()}


def gsm_encode(text):
    """Unpacked GSM 03.38 (one septet per octet), extension characters behind ESC."""
    out = bytearray()
    for char in text:
        if char in _GSM_ESCAPED:
            out += bytes((0x1B, _GSM_ESCAPED[char]))
        else:
            out.append(_GSM_CODES[char])
    return bytes(out)


def gsm_decode(data):
    chars, escaped = [], False
    for octet in data:
        if escaped:
            chars.append(_GSM_UNESCAPED.get(octet, " "))
            escaped = False
        elif octet == 0x1B:
            escaped = True
        else:
            chars.append(_GSM_CHARS.get(octet & 0x7F, "?"))
    return "".join(chars)


def encode_parts(text, reference):
    """(data_coding, esm_class, [short_message, …]) for one message.

    `reference` ties the parts together on the phone (one octet): the message id keeps
    it stable if the message is ever sent again."""
    if encoding.is_gsm(text):
        data_coding, encode = DATA_CODING_GSM, gsm_encode
    else:
        data_coding, encode = DATA_CODING_UCS2, lambda part: part.encode("utf-16-be")
    parts = encoding.split(text) or [""]
    if len(parts) == 1:
        return data_coding, 0, [encode(parts[0])]
    header = bytes((0x05, 0x00, 0x03, reference % 256, len(parts)))
    bodies = [header + bytes((seq,)) + encode(part) for seq, part in enumerate(parts, 1)]
    return data_coding, ESM_UDHI, bodies


def decode_text(short_message, data_coding, esm_class=0):
    """An inbound deliver_sm's text; a UDH (one part of a long SMS) is dropped."""
    data = short_message or b""
    if esm_class & ESM_UDHI and data:
        data = data[data[0] + 1 :]
    if data_coding == DATA_CODING_UCS2:
        return data.decode("utf-16-be", errors="replace")
    if data_coding == DATA_CODING_LATIN1:
        return data.decode("latin-1")
    return gsm_decode(data)


# --- submit_sm answers ----------------------------------------------------------------

_STATUS_NAMES = {
    value: name.removeprefix("SMPP_")
    for name, value in vars(consts).items()
    if name.startswith("SMPP_ESME_R") and isinstance(value, int)
}
_STATUS_FRENCH = {
    consts.SMPP_ESME_RINVDSTADR: N_("numéro de destination invalide"),
    consts.SMPP_ESME_RINVSRCADR: N_("expéditeur refusé"),
    consts.SMPP_ESME_RINVMSGLEN: N_("longueur du message invalide"),
    consts.SMPP_ESME_RINVSRCTON: N_("type d'expéditeur refusé"),
    consts.SMPP_ESME_RINVDSTTON: N_("type de numéro de destination refusé"),
    consts.SMPP_ESME_RDELIVERYFAILURE: N_("remise impossible"),
    consts.SMPP_ESME_RINVESMCLASS: N_("message en plusieurs parties refusé"),
    consts.SMPP_ESME_RSUBMITFAIL: N_("envoi refusé"),
    consts.SMPP_ESME_RSYSERR: N_("erreur de l'opérateur"),
    consts.SMPP_ESME_RINVNUMDESTS: N_("nombre de destinataires invalide"),
}
_REFUSED = N_("Refusé par l'opérateur : %(what)s (%(name)s).")
_REFUSED_ANYHOW = N_("message refusé")
# The SMSC asks us to slow down: the message is not refused, it must go again later.
_RETRY_LATER = {consts.SMPP_ESME_RTHROTTLED, consts.SMPP_ESME_RMSGQFUL}


def refusal_reason(status):
    """The reason for the report (its French words, a catalogue entry: N_), with the SMPP
    error name for the operator."""
    name = _STATUS_NAMES.get(status, f"0x{status:08X}")
    what = _STATUS_FRENCH.get(status, _REFUSED_ANYHOW)
    return N_(_REFUSED, what=what, name=name)


def _text(value):
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip("\x00")
    return value or ""


def _source(sender_id):
    """Our alphanumeric sender (validated by sms.sender), as SMPP source fields."""
    if not sender_id:
        return {"source_addr_ton": 0, "source_addr_npi": NPI_UNKNOWN, "source_addr": ""}
    return {
        "source_addr_ton": TON_ALPHANUMERIC,
        "source_addr_npi": NPI_UNKNOWN,
        "source_addr": sender_id,
    }


# --- the transmitter ------------------------------------------------------------------


@dataclass(frozen=True)
class LinkSettings:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    timeout: float = 10.0
    enquire_every: float = 30.0  # our enquire_link on an idle link, seconds

    def __repr__(self):  # never print the password
        return f"LinkSettings({self.host}:{self.port}, system_id={self.system_id!r})"

    @classmethod
    def from_config(cls, config):
        return cls(
            host=config["SMPP_HOST"],
            port=int(config["SMPP_PORT"]),
            system_id=config["SMPP_SYSTEM_ID"],
            password=config["SMPP_PASSWORD"],
            system_type=config.get("SMPP_SYSTEM_TYPE", ""),
            enquire_every=float(config.get("SMPP_ENQUIRE_SECONDS", 30)),
        )


# Why a bind failed, in words head office can act on (Paramètres › Passerelle).
_BIND_REFUSALS = {
    consts.SMPP_ESME_RINVPASWD: N_("mot de passe"),
    consts.SMPP_ESME_RINVSYSID: N_("identifiant (system_id) inconnu"),
    consts.SMPP_ESME_RINVSYSTYP: N_("system_type refusé"),
    consts.SMPP_ESME_RBINDFAIL: N_("liaison refusée par l'opérateur"),
    consts.SMPP_ESME_RALYBND: N_("compte déjà lié ailleurs"),
}
_BIND_REFUSED = N_("Connexion SMPP refusée : %(what)s")
_BIND_ERROR = N_("Connexion SMPP refusée : erreur %(name)s")
_SERVER_AWAY = N_("Connexion SMPP refusée : serveur %(address)s injoignable")


def bind_refusal(error, settings):
    """« Connexion SMPP refusée : mot de passe » and the like, for the campaign's note
    and the supervision page (French words, a catalogue entry: N_); never the password."""
    status = (
        error.args[1]
        if isinstance(error, smpplib.exceptions.PDUError) and len(error.args) > 1
        else None
    )
    if status in _BIND_REFUSALS:
        return N_(_BIND_REFUSED, what=_BIND_REFUSALS[status])
    if status is not None:
        return N_(_BIND_ERROR, name=_STATUS_NAMES.get(status, hex(status)))
    return N_(_SERVER_AWAY, address=f"{settings.host}:{settings.port}")


def open_link(settings, mode):
    """A smpplib client connected and bound (mode: transmitter, receiver, transceiver)."""
    client = smpplib.client.Client(
        settings.host,
        settings.port,
        timeout=settings.timeout,
        logger_name=WIRE_LOGGER,
        allow_unknown_opt_params=True,
    )
    try:
        client.connect()
        bind = getattr(client, f"bind_{mode}")
        bind(
            system_id=settings.system_id,
            password=settings.password,
            system_type=settings.system_type,
        )
    except (*LinkErrors, TimeoutError) as error:
        client.disconnect()
        raise SmppUnavailable(
            bind_refusal(error, settings),
            f"{mode} vers {settings.host}:{settings.port}, system_id {settings.system_id!r}",
        ) from error
    return client


def close_link(client):
    """Unbind and close; a peer that closes without unbind_resp is not an error."""
    with contextlib.suppress(*LinkErrors, TimeoutError):
        client.unbind()
    client.disconnect()


class Unbound(smpplib.exceptions.ConnectionError):
    """The SMSC ended the session (its unbind, answered)."""


_UNBOUND = N_("unbind demandé par le SMSC")
_CLOSED = N_("liaison fermée")
_NO_ANSWER = N_("pas de réponse du SMSC")
_INCOMPLETE = N_("PDU incomplet")


def answer_housekeeping(client, pdu):
    """The SMSC's own requests on any link: enquire_link wants its answer; an unbind
    is answered and ends the session (raises Unbound)."""
    if pdu.command == "enquire_link":
        reply = smpplib.smpp.make_pdu("enquire_link_resp", client=client)
        reply.sequence = pdu.sequence
        client.send_pdu(reply)
    elif pdu.command == "unbind":
        reply = smpplib.smpp.make_pdu("unbind_resp", client=client)
        reply.sequence = pdu.sequence
        client.send_pdu(reply)
        raise Unbound(_UNBOUND)
    elif pdu.command not in ("enquire_link_resp", "unbind_resp", "generic_nack"):
        log.warning("SMPP : PDU %s inattendu, ignoré", pdu.command)


def _readable(client, wait):
    sock = client._socket
    if sock is None:
        raise smpplib.exceptions.ConnectionError(_CLOSED)
    return bool(select.select([sock], [], [], wait)[0])


class Transmitter:
    """One bound transmitter per process and settings, kept between batches.

    smpplib is not thread-safe, so one thread at a time drives it, under `lock`: the
    sending thread (submits lock-step, one part and its answer after the other) or,
    while it is idle, the link's keeper thread, which answers the SMSC's enquire_link
    and unbind as they come, sends our own enquire_link after `enquire_every` seconds
    of silence, and binds again at once when the SMSC unbinds or drops the link. So the
    link an idle worker holds is still bound when the next message comes; "alive" means
    bound, never merely "answered something" (an unbound session answers
    ESME_RINVBNDSTS and ignores what we send)."""

    def __init__(self, settings, *, tick=0.2):
        self.settings = settings
        self.client = None
        self.lock = threading.Lock()
        self.last_error = ""
        self.pace = 0.0  # seconds between submits, learnt from ESME_RTHROTTLED
        self._tick = tick
        self._last_traffic = 0.0
        self._last_submit = 0.0
        self._closed = threading.Event()
        self._keeper = None
        self._rebind_at = 0.0
        self._rebind_wait = 1.0

    @property
    def bound(self):
        return self.client is not None

    def ensure_bound(self):
        """Under `lock`: read what the SMSC said while we were idle, then bind if the
        link is not bound. Raises SmppUnavailable (its words for people) when refused."""
        if self.client is not None:
            try:
                self._service()
            except (*LinkErrors, TimeoutError) as error:
                log.warning(
                    "SMPP : liaison perdue pendant l'attente (%s), nouvelle liaison",
                    error or type(error).__name__,
                )
                self.drop()
        if self.client is None:
            try:
                self.client = open_link(self.settings, "transmitter")
            except SmppUnavailable as error:
                self.last_error = str(error)
                raise
            self.last_error = ""
            self._last_traffic = time.monotonic()
            log.info("SMPP : émetteur lié à %s:%d", self.settings.host, self.settings.port)
        self._start_keeper()

    def _service(self):
        """Answer whatever the SMSC sent while nobody read (enquire_link, unbind)."""
        while self.client is not None and _readable(self.client, 0):
            pdu = self._read()
            answer_housekeeping(self.client, pdu)

    def _read(self):
        try:
            pdu = self.client.read_pdu()
        except TimeoutError as error:
            raise smpplib.exceptions.ConnectionError(_INCOMPLETE) from error
        self._last_traffic = time.monotonic()
        return pdu

    def submit_part(self, **fields):
        """(command_status, message_id) for one submit_sm, at the learnt pace."""
        wait = self._last_submit + self.pace - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        pdu = self.client.send_message(**fields)
        self._last_submit = time.monotonic()
        answer = self._wait_for(pdu.sequence)
        return int(answer.status), _text(getattr(answer, "message_id", ""))

    def _wait_for(self, sequence):
        while True:
            if not _readable(self.client, self.settings.timeout):
                raise smpplib.exceptions.ConnectionError(_NO_ANSWER)
            pdu = self._read()
            if pdu.sequence == sequence and pdu.command.endswith("_resp"):
                return pdu
            if pdu.command == "generic_nack" and pdu.sequence == sequence:
                return pdu
            answer_housekeeping(self.client, pdu)

    def _enquire(self):
        probe = smpplib.smpp.make_pdu("enquire_link", client=self.client)
        self.client.send_pdu(probe)
        answer = self._wait_for(probe.sequence)
        if int(answer.status):  # ESME_RINVBNDSTS: the SMSC no longer holds our session
            raise Unbound(f"enquire_link refusé ({_STATUS_NAMES.get(int(answer.status))})")

    # --- the keeper thread ------------------------------------------------------------

    def _start_keeper(self):
        if self._keeper is None or not self._keeper.is_alive():
            self._keeper = threading.Thread(
                target=self._keep, daemon=True, name=f"smpp-keeper-{self.settings.port}"
            )
            self._keeper.start()

    def _keep(self):
        while not self._closed.wait(self._tick):
            if not self.lock.acquire(timeout=self._tick):
                continue  # a submit is using the link: it reads the SMSC itself
            try:
                if self._closed.is_set():
                    return
                self._keep_once()
            finally:
                self.lock.release()

    def _keep_once(self):
        now = time.monotonic()
        if self.client is None:
            if now < self._rebind_at:
                return
            try:
                self.ensure_bound()
                self._rebind_wait = 1.0
            except SmppUnavailable as error:
                log.warning("%s ; nouvel essai dans %.0f s", error, self._rebind_wait)
                self._rebind_at = now + self._rebind_wait
                self._rebind_wait = min(self._rebind_wait * 2, 60.0)
            return
        try:
            if _readable(self.client, 0):
                self._service()
            elif now - self._last_traffic >= self.settings.enquire_every:
                self._enquire()
        except (*LinkErrors, TimeoutError) as error:
            log.warning(
                "SMPP : émetteur délié (%s), nouvelle liaison", error or type(error).__name__
            )
            self.drop()
            self._rebind_at = 0.0  # at once: the next message must find a bound link

    # --- end ----------------------------------------------------------------------------

    def close(self):
        self._closed.set()
        if self.client is not None:
            client, self.client = self.client, None
            close_link(client)

    def drop(self):
        """A broken link is not worth an unbind that would wait for its timeout."""
        if self.client is not None:
            client, self.client = self.client, None
            client.disconnect()


_transmitters: dict[LinkSettings, Transmitter] = {}
_transmitters_lock = threading.Lock()


def transmitter_for(settings):
    """This process's transmitter for these settings; a link kept for settings that
    changed since (Paramètres › Passerelle) is unbound, so one account is bound once."""
    with _transmitters_lock:
        stale = [link for key, link in _transmitters.items() if key != settings]
        for link in stale:
            del _transmitters[link.settings]
        if settings not in _transmitters:
            _transmitters[settings] = Transmitter(settings)
        link = _transmitters[settings]
    for old in stale:
        with old.lock:
            old.close()
    return link


def close_transmitters():
    """Unbind every transmitter of this process (at exit, and between tests)."""
    with _transmitters_lock:
        links = list(_transmitters.values())
        _transmitters.clear()
    for link in links:
        with link.lock:
            link.close()
        if link._keeper is not None:
            link._keeper.join(timeout=5)


# A worker that exits unbinds politely, so the SMSC frees the session at once.
atexit.register(close_transmitters)

# ESME_RTHROTTLED: wait, then send the same PDU again, slower.
THROTTLE_BACKOFF = (0.25, 0.5, 1.0, 2.0, 4.0)  # seconds, the last one repeated
MAX_PACE = 2.0  # seconds between submits at the slowest the link learns
# A message not begun yet is put back to pending (another batch takes it) rather than
# hold the chunk past this many seconds of throttling: the batch never stalls.
THROTTLE_BUDGET = 20.0


class SmppGateway:
    name = "smpp"
    transactional = False

    def __init__(self, settings):
        self.settings = settings

    @classmethod
    def from_config(cls, config):
        return cls(LinkSettings.from_config(config))

    link_name = "smpp:transmitter"

    def open(self):
        """Bound before a batch is claimed: a refused bind (SmppUnavailable, worded for
        people) then holds the campaign with nothing claimed."""
        link = transmitter_for(self.settings)
        with link.lock:
            link.ensure_bound()

    def submit(self, messages: list[OutgoingSms]) -> list[Submitted]:
        """Answers in order. A message the SMSC asked us to hold back (throttling) comes
        back as `retry` if none of its parts left. When the link fails, the answers so
        far come back and the rest stay handed over: the sweep decides on them."""
        link = transmitter_for(self.settings)
        results = []
        with link.lock:
            link.ensure_bound()
            throttled = [0.0]  # seconds this call spent held back
            try:
                for sms in messages:
                    if throttled[0] > THROTTLE_BUDGET:
                        results.append(Submitted(sms.message_id, retry=True))
                        continue
                    results.append(self._submit_one(link, sms, throttled))
            except (*LinkErrors, TimeoutError) as error:
                link.drop()
                log.warning("SMPP : liaison perdue après %d messages : %s", len(results), error)
                if not results:
                    raise SmppInterrupted(N_(_INTERRUPTED, error=_words(error))) from error
        return results

    def _submit_one(self, link, sms, throttled):
        data_coding, esm_class, bodies = encode_parts(sms.text, sms.message_id)
        ref, refs = None, []
        for index, body in enumerate(bodies):
            attempt = 0
            while True:
                status, ref = link.submit_part(
                    **_source(sms.sender_id),
                    dest_addr_ton=TON_INTERNATIONAL,
                    dest_addr_npi=NPI_ISDN,
                    destination_addr=sms.phone.lstrip("+"),
                    esm_class=esm_class,
                    data_coding=data_coding,
                    registered_delivery=1,
                    short_message=body,
                )
                if status not in _RETRY_LATER:
                    break
                if index == 0 and throttled[0] > THROTTLE_BUDGET:
                    return Submitted(sms.message_id, retry=True)
                # The same PDU again (same reference, same part number) after a pause,
                # and the link slows down for good until the SMSC accepts again.
                pause = THROTTLE_BACKOFF[min(attempt, len(THROTTLE_BACKOFF) - 1)]
                link.pace = min(MAX_PACE, max(link.pace * 1.5, 0.05))
                log.info(
                    "SMPP : %s, nouvel essai dans %.2f s (partie %d)",
                    _STATUS_NAMES.get(status),
                    pause,
                    index + 1,
                )
                time.sleep(pause)
                throttled[0] += pause
                attempt += 1
            if status != 0:
                # Parts already taken may reach the phone, but the message is incomplete.
                return Submitted(sms.message_id, error=refusal_reason(status))
            if attempt == 0:
                link.pace *= 0.98  # the SMSC keeps up: speed up, slowly
            refs.append(ref[:64])
        part_refs = tuple(refs) if len(refs) > 1 and all(refs) else ()
        return Submitted(sms.message_id, ref=ref[:64] or None, part_refs=part_refs)

    def received(self, message_ids):
        return None  # SMPP cannot be asked; the receipts will tell

    def after_commit(self):
        pass


# --- deliver_sm: receipts and inbound SMS ---------------------------------------------

# message_state (SMPP 3.4 §5.2.28) and the receipt text's stat: what we make of them.
_STATE_NAMES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
# The reason names the receipt's stat and err for the operator (its detail).
_OUTCOMES = {
    "DELIVRD": ("delivered", ""),
    "EXPIRED": ("expired", N_("Téléphone injoignable pendant la durée de validité (%(detail)s)")),
    "UNDELIV": ("failed", N_("Non délivré par l'opérateur (%(detail)s)")),
    "REJECTD": ("failed", N_("Refusé par l'opérateur (%(detail)s)")),
    "DELETED": ("failed", N_("Supprimé par l'opérateur (%(detail)s)")),
}
_RECEIPT_FIELD = re.compile(r"\b(id|stat|err):(\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class Receipt:
    ref: str
    stat: str  # DELIVRD, UNDELIV, …
    err: str = ""

    def report(self):
        """The delivery.Report, or None for a state that is not final (ENROUTE…)."""
        if self.stat not in _OUTCOMES:
            return None
        state, reason = _OUTCOMES[self.stat]
        if reason:
            detail = f"{self.stat}, err {self.err}" if self.err else self.stat
            reason = N_(reason, detail=detail)
        return Report(state=state, ref=self.ref, error=reason)


def is_receipt(pdu):
    return bool(int(getattr(pdu, "esm_class", 0) or 0) & ESM_RECEIPT)


def parse_receipt(pdu):
    """The receipt's fields: the TLVs when the SMSC sends them, else the text
    ("id:… sub:… dlvrd:… stat:DELIVRD err:000 text:…")."""
    fields = {k.lower(): v for k, v in _RECEIPT_FIELD.findall(_text(pdu.short_message))}
    ref = _text(getattr(pdu, "receipted_message_id", None)) or fields.get("id", "")
    state = getattr(pdu, "message_state", None)
    stat = _STATE_NAMES.get(state) if state else fields.get("stat", "").upper()
    if not ref or not stat:
        return None
    return Receipt(ref=ref, stat=stat, err=fields.get("err", ""))


def sender_e164(pdu):
    """The client's number as inbound.receive expects it: E.164 when international."""
    number = _text(pdu.source_addr)
    ton = int(getattr(pdu, "source_addr_ton", 0) or 0)
    if ton == TON_ALPHANUMERIC or not number.isdigit():
        return number
    if ton == TON_NATIONAL or number.startswith("0"):
        return number  # national: phones.classify reads it as French
    return "+" + number


def inbound_text(pdu):
    data = pdu.short_message or getattr(pdu, "message_payload", None) or b""
    return decode_text(data, int(pdu.data_coding or 0), int(pdu.esm_class or 0))


def handle_deliver_sm(pdu):
    """Apply one deliver_sm (inside an app context). A receipt for a reference not
    committed yet is kept by services/delivery (EarlyReceipt) and applied when it is."""
    if not is_receipt(pdu):
        callbacks().inbound(
            "smpp", sender_e164(pdu), inbound_text(pdu), to=_text(pdu.destination_addr)
        )
        return
    receipt = parse_receipt(pdu)
    report = receipt.report() if receipt else None
    if report is not None:  # None: an intermediate notification, nothing to record
        callbacks().reports("smpp", [report])


# --- the receiver process -------------------------------------------------------------


# The receiver's state on the supervision page (services/link_status).
_NOT_CONFIGURED = N_("Passerelle SMPP non configurée")
_RECEIVER_BOUND = N_("Récepteur lié (%(mode)s) à %(address)s")
_RECEIVER_UNBOUND = N_("Récepteur non lié : %(reason)s")
_RECEIVER_LOST = N_("Récepteur non lié : liaison perdue, reconnexion")
_RECEIVER_STOPPED = N_("Récepteur arrêté")
# Kept as their French words (a message's reason, a link's state, a campaign's note) and
# said in the reader's language (shopsms.sms.said.read).
readable(
    _REFUSED,
    _REFUSED_ANYHOW,
    *_STATUS_FRENCH.values(),
    _BIND_REFUSED,
    _BIND_ERROR,
    _SERVER_AWAY,
    *_BIND_REFUSALS.values(),
    _INTERRUPTED,
    _UNBOUND,
    _CLOSED,
    _NO_ANSWER,
    _INCOMPLETE,
    *(reason for _state, reason in _OUTCOMES.values() if reason),
    _NOT_CONFIGURED,
    _RECEIVER_BOUND,
    _RECEIVER_UNBOUND,
    _RECEIVER_LOST,
    _RECEIVER_STOPPED,
)


class Receiver:
    """Reads deliver_sm until stop(), reconnects with backoff.

    It binds as a transceiver that never submits: some SMSCs only offer transceiver
    binds, and smpp34 1.5.0 (our test SMSC) answers generic_nack to a deliver_sm_resp
    coming from a receiver bind. mode="receiver" is there for operators that want one.

    Everything smpplib does happens in the thread that calls run(); stop() only sets a
    flag, which the loop sees within `tick` seconds, then it unbinds."""

    def __init__(
        self,
        app,
        settings=None,
        *,
        mode="transceiver",
        tick=0.5,
        enquire_every=30,
        max_backoff=30,
        follow_every=5.0,
    ):
        self.app = app
        self.mode = mode
        # None: the workers' settings (environment, then Paramètres › Passerelle), read
        # again every `follow_every` seconds so that a change is followed without restart.
        self._fixed_settings = settings
        self.settings = settings
        self.follow_every = follow_every
        self.tick = tick
        self.enquire_every = enquire_every
        self.max_backoff = max_backoff
        self.bound = threading.Event()  # tests and logs: the link is up
        self._stopping = threading.Event()

    @classmethod
    def from_app(cls, app, **options):
        return cls(app, None, **options)

    def stop(self, *_signal):
        self._stopping.set()

    def current_settings(self):
        """The settings the workers use now (they may have changed in Paramètres)."""
        if self._fixed_settings is not None:
            return self._fixed_settings
        with self.app.app_context():
            try:
                return LinkSettings.from_config(settings_config())
            finally:
                db.session.remove()

    def _status(self, ok, detail):
        """This receiver's reading for the supervision page (services/link_status)."""
        with self.app.app_context():
            callbacks().link_status("smpp:receiver", ok, detail)

    def run(self):
        backoff = 1
        while not self._stopping.is_set():
            try:
                self.settings = self.current_settings()
                if not self.settings.system_id:
                    raise SmppUnavailable(_NOT_CONFIGURED, "Paramètres › Passerelle ou SMPP_*")
                client = open_link(self.settings, self.mode)
            except SmppUnavailable as error:
                log.warning("%s ; nouvel essai dans %d s", error, backoff)
                self._status(False, N_(_RECEIVER_UNBOUND, reason=error.reason))
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            except Exception:  # the database that holds the settings: try again later
                log.exception("SMPP : réglages de la passerelle illisibles")
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = 1
            log.info("SMPP : lié (%s) à %s:%d", self.mode, self.settings.host, self.settings.port)
            address = f"{self.settings.host}:{self.settings.port}"
            self._status(True, N_(_RECEIVER_BOUND, mode=self.mode, address=address))
            try:
                self._listen(client)
            except LinkErrors as error:
                log.warning(
                    "SMPP : liaison perdue (%s), reconnexion", error or type(error).__name__
                )
                client.disconnect()
                self.bound.clear()
                self._status(False, _RECEIVER_LOST)
                self._stopping.wait(backoff)
                continue
            self.bound.clear()
            close_link(client)
        if self.settings is not None:
            self._status(False, _RECEIVER_STOPPED)
        log.info("SMPP : récepteur arrêté")

    def _listen(self, client):
        """Until stop(), or until the settings change (then run() binds anew)."""
        self.bound.set()
        last_traffic = last_check = time.monotonic()
        while not self._stopping.is_set():
            # Wait on the socket rather than on a short read timeout: a timeout in the
            # middle of a PDU would leave smpplib out of step with the stream.
            readable, _, _ = select.select([client._socket], [], [], self.tick)
            if readable:
                self._read_one(client)
                last_traffic = time.monotonic()
            elif time.monotonic() - last_traffic > self.enquire_every:
                client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
                last_traffic = time.monotonic()
            if time.monotonic() - last_check > self.follow_every:
                last_check = time.monotonic()
                if self._settings_changed():
                    log.info("SMPP : réglages de la passerelle modifiés, nouvelle liaison")
                    return

    def _settings_changed(self):
        try:
            return self.current_settings() != self.settings
        except Exception:  # the database is down: keep the link we have
            log.exception("SMPP : réglages de la passerelle illisibles")
            return False

    def _read_one(self, client):
        try:
            pdu = client.read_pdu()
        except TimeoutError as error:
            raise smpplib.exceptions.ConnectionError(_INCOMPLETE) from error
        if pdu.command == "unbind":  # the SMSC closes the session
            reply = smpplib.smpp.make_pdu("unbind_resp", client=client)
            reply.sequence = pdu.sequence
            client.send_pdu(reply)
            raise smpplib.exceptions.ConnectionError(_UNBOUND)
        if pdu.command != "deliver_sm":
            answer_housekeeping(client, pdu)
            return
        status = self._handle(pdu)
        reply = smpplib.smpp.make_pdu("deliver_sm_resp", client=client, status=status)
        reply.sequence = pdu.sequence
        client.send_pdu(reply)

    def _handle(self, pdu):
        """deliver_sm_resp status: ROK once recorded and committed; a temporary error
        (the SMSC sends it again later) when our database failed."""
        try:
            with self.app.app_context():
                try:
                    handle_deliver_sm(pdu)
                finally:
                    db.session.remove()
        except Exception:
            log.exception("SMPP : deliver_sm non enregistré, l'opérateur le renverra")
            return consts.SMPP_ESME_RX_T_APPN
        return consts.SMPP_ESME_ROK


# --- flask smpp receive ---------------------------------------------------------------

smpp_cli = AppGroup("smpp", help="Passerelle SMPP : accusés de réception et SMS entrants.")


@smpp_cli.command("receive")
def receive_command():
    """Stay bound as a receiver: delivery receipts and inbound SMS (STOP), with the
    workers' gateway settings (environment, then Paramètres › Passerelle), followed when
    they change. SIGTERM or Ctrl-C unbinds and stops."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    receiver = Receiver.from_app(current_app._get_current_object())
    signal.signal(signal.SIGTERM, receiver.stop)
    signal.signal(signal.SIGINT, receiver.stop)
    settings = receiver.current_settings()
    click.echo(
        f"Réception SMPP depuis {settings.host}:{settings.port}, réglages suivis "
        "(Paramètres › Passerelle) ; Ctrl-C pour arrêter"
    )
    receiver.run()
