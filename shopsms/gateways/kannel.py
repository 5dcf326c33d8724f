"""Kannel: one HTTP GET per message to an smsbox's sendsms service.

Kannel answers "accepted" or "refused" at once, then calls our dlr-url twice per
message (8: reached the SMSC, 1: delivered to the phone). Our message id is the
reference, so the dlr-url carries it, signed, and web/hooks.py checks the signature
before believing a report. Long texts are cut into concatenated parts by Kannel
itself (its sendsms-user needs `concatenation = true` and enough `max-messages`).
"""

import hashlib
import hmac
import re
from concurrent.futures import Future, ThreadPoolExecutor, wait
from urllib.parse import quote, quote_plus

import requests
from requests.adapters import HTTPAdapter

from ..sms.encoding import is_gsm, split
from ..sms.said import N_, readable
from .base import OutgoingSms, Submitted

DLR_MASK = 31  # every report: delivered, not delivered, queued, reached / refused by the SMSC
HOOK_PATH = "/hooks/kannel/dlr"
TIMEOUT = (3, 10)  # seconds to connect, to read: smsbox answers in milliseconds
# smsbox answers a request with a dlr-mask only once bearerbox has it (tens of ms), so
# one connection at a time tops out near 50 messages a second; it serves many at once.
CONCURRENCY = 16

# Kannel's answers that mean it took the message: now, or once the SMSC is back.
_ACCEPTED = re.compile(r"^\s*[03]\s*:")


# A worker builds a gateway for every batch; its HTTP connections to smsbox and the
# threads that post on them outlive the batch, so that a batch neither opens 16 new
# connections nor starts 16 new threads.
_SHARED: dict[str, object] = {}


def _session():
    session = _SHARED.get("session")
    if session is None:
        session = requests.Session()
        session.mount("http://", HTTPAdapter(pool_maxsize=CONCURRENCY))
        session.mount("https://", HTTPAdapter(pool_maxsize=CONCURRENCY))
        _SHARED["session"] = session
    return session


def _threads():
    pool = _SHARED.get("threads")
    if pool is None:
        pool = _SHARED["threads"] = ThreadPoolExecutor(CONCURRENCY, "kannel")
    return pool


class KannelUnavailable(RuntimeError):
    """smsbox could not be reached: the batch stays claimed and the sweep takes it back."""


_AWAY = N_("Kannel injoignable (%(address)s) : %(error)s")
_BUSY = N_("Kannel momentanément indisponible : %(answer)s")
# sendsms refusing a message: the reason on it, with Kannel's answer when it gave one.
_REFUSALS = {
    403: (
        N_("Kannel refuse l'accès (identifiant ou mot de passe sendsms)"),
        N_("Kannel refuse l'accès (identifiant ou mot de passe sendsms) : %(answer)s"),
    ),
    400: (
        N_("Kannel refuse le message (requête invalide)"),
        N_("Kannel refuse le message (requête invalide) : %(answer)s"),
    ),
}
_ANSWERED = (N_("Kannel a répondu %(status)s"), N_("Kannel a répondu %(status)s : %(answer)s"))
# Kannel's delivery reports (web/hooks.py) of a message that failed: DLR type → reason.
_DLR_FAILURES = {
    2: (N_("Non délivré par l'opérateur"), N_("Non délivré par l'opérateur : %(answer)s")),
    16: (N_("Refusé par l'opérateur (SMSC)"), N_("Refusé par l'opérateur (SMSC) : %(answer)s")),
}
# Kept as their French words on the message and said in the reader's language
# (shopsms.sms.said.read).
readable(
    _AWAY,
    _BUSY,
    *(sentence for pair in (*_REFUSALS.values(), _ANSWERED) for sentence in pair),
    *(sentence for pair in _DLR_FAILURES.values() for sentence in pair),
)


def dlr_error(dlr_type, answer):
    """The reason a delivery report of this type gives a message ("" when it is no
    failure), with the SMSC's answer (%A) when there is one."""
    if dlr_type not in _DLR_FAILURES:
        return ""
    alone, with_answer = _DLR_FAILURES[dlr_type]
    return N_(with_answer, answer=answer) if answer else alone


def sign(secret, message_id):
    """Proof that a delivery report names a message we sent (the dlr-url carries it)."""
    digest = hmac.new(secret.encode(), f"kannel:{message_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _mask(text, password):
    """Errors from requests quote the whole URL: hide the password, as typed or encoded."""
    if not password:
        return text
    for form in {password, quote_plus(password), quote(password, safe="")}:
        text = text.replace(form, "***")
    return text


class KannelGateway:
    name = "kannel"
    transactional = False
    # Rows handed over per commit (services.sending): a few rounds of CONCURRENCY requests,
    # so that the two commits around them and the wait for the slowest request of a round
    # weigh less on the link's speed. They are the rows a killed worker leaves uncertain.
    chunk_size = 8 * CONCURRENCY

    def __init__(self, sendsms_url, username, password, *, public_url, hooks_secret, smsc=""):
        self.sendsms_url = sendsms_url
        self.username = username
        self.password = password
        self.public_url = public_url.rstrip("/")
        self.hooks_secret = hooks_secret
        self.smsc = smsc
        self.session = _session()

    @classmethod
    def from_config(cls, config):
        return cls(
            config["KANNEL_SENDSMS_URL"],
            config["KANNEL_USERNAME"],
            config["KANNEL_PASSWORD"],
            public_url=config["PUBLIC_URL"],
            hooks_secret=config["HOOKS_SECRET"],
            smsc=config.get("KANNEL_SMSC", ""),
        )

    def dlr_url(self, message_id):
        # %d and %A are Kannel's: the report's status and the SMSC's answer.
        signature = sign(self.hooks_secret, message_id)
        return f"{self.public_url}{HOOK_PATH}?id={message_id}&sig={signature}&status=%d&answer=%A"

    def requests_for(self, message: OutgoingSms):
        """One sendsms request per part, as we cut and charge them (sms.encoding.split:
        never inside an escape or a surrogate pair). A long text carries its own
        concatenation header (`udh`: 8-bit reference, total, sequence), so Kannel sends
        each part as it is instead of cutting UCS-2 every 134 octets (which split emoji)."""
        parts = split(message.text)
        if len(parts) <= 1:
            return [self.params(message)]
        reference = message.message_id % 256
        return [
            self.params(message, text=part)
            | {"udh": bytes([0x05, 0x00, 0x03, reference, len(parts), sequence])}
            for sequence, part in enumerate(parts, 1)
        ]

    def params(self, message: OutgoingSms, *, text=None):
        params = {
            "username": self.username,
            "password": self.password,
            "from": message.sender_id,
            "to": message.phone,
            "text": message.text if text is None else text,
            "dlr-mask": DLR_MASK,
            "dlr-url": self.dlr_url(message.message_id),
        }
        # coding=0 applies GSM 03.38 (ê would become "?"); UCS-2 needs the charset,
        # without it Kannel sends garbage.
        params |= {"coding": 0} if is_gsm(message.text) else {"coding": 2, "charset": "UTF-8"}
        if self.smsc:
            params["smsc"] = self.smsc
        return params

    def submit_later(self, messages: list[OutgoingSms]) -> list[Future[Submitted]]:
        """Their requests queued to the link's threads; one Future each, in order."""
        pool = _threads()
        return [pool.submit(self._submit_one, message) for message in messages]

    def submit(self, messages: list[OutgoingSms]) -> list[Submitted]:
        if len(messages) <= 1:
            return [self._submit_one(message) for message in messages]
        # Answers come back in the messages' order. If Kannel is unreachable, the
        # requests already started finish before the error goes up.
        pool = _threads()
        futures = [pool.submit(self._submit_one, message) for message in messages]
        try:
            return [future.result() for future in futures]
        except KannelUnavailable:
            for future in futures:
                future.cancel()  # those not started yet stay claimed, unsent
            wait(futures)  # those started finish before the error goes up
            raise

    def _submit_one(self, message):
        answer = None
        for params in self.requests_for(message):
            answer = self._request(message, params)
            if answer.error:  # the parts after a refused one are not sent
                return answer
        return answer

    def _request(self, message, params):
        try:
            response = self.session.get(self.sendsms_url, params=params, timeout=TIMEOUT)
        except requests.RequestException as error:
            # Kannel may or may not have it: its delivery report will say. Never mark
            # the message failed for a network blip.
            # Not str(error): it quotes the whole request, password and client's text.
            raise KannelUnavailable(
                N_(
                    _AWAY,
                    address=_mask(self.sendsms_url, self.password),
                    error=type(error).__name__,
                )
            ) from None
        return self._answer(message.message_id, response)

    def _answer(self, message_id, response):
        text = _mask(response.text.strip(), self.password)[:150]
        if response.status_code == 202 and _ACCEPTED.match(text):
            return Submitted(message_id)  # our id is the reference in its reports
        if response.status_code == 503:
            # "Temporal failure, try again later": nothing was taken; the sweep retries.
            raise KannelUnavailable(N_(_BUSY, answer=text))
        alone, with_answer = _REFUSALS.get(response.status_code, _ANSWERED)
        status = response.status_code
        reason = N_(with_answer, status=status, answer=text) if text else N_(alone, status=status)
        return Submitted(message_id, error=reason)

    def received(self, message_ids):
        return None  # Kannel cannot say; its delivery reports move the rows it took

    def after_commit(self):
        return None
