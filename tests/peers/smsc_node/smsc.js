// A test SMSC on the npm `smpp` package (farhadi/node-smpp), driven by
// tests/peers/nodesmsc.py: commands come as JSON lines on stdin, every PDU it sees or
// sends is told as a JSON line on stdout. It behaves as aggregators do:
// - one account: an unknown system_id is refused ESME_RINVSYSID, a wrong password
//   ESME_RINVPASWD;
// - a submit rate limit: beyond `throttle` submits per second, ESME_RTHROTTLED;
// - it probes idle sessions with enquire_link every `enquire_every` ms and unbinds a
//   session that does not answer within `enquire_timeout` ms (Jasmin: 60 s, then unbind);
// - it keeps receipts and inbound SMS until a receiver (or transceiver) is bound.
"use strict";
const smpp = require("smpp");
const readline = require("readline");

const config = Object.assign(
  {
    system_id: "shopsms",
    password: "s3cretpw", // SMPP 3.4: at most 8 characters
    throttle: 0, // submits per second, 0: no limit
    enquire_every: 0, // ms between our enquire_links on an idle session, 0: never
    enquire_timeout: 1000,
    bind_status: 0, // force a bind answer (e.g. ESME_RBINDFAIL)
  },
  JSON.parse(process.argv[3] || "{}")
);
const port = parseInt(process.argv[2] || "0", 10);

let nextSession = 0;
let nextMessage = 0;
const sessions = new Map(); // id -> {session, mode, bound, lastIn}
const pending = []; // deliver_sm waiting for a receiver
const submitTimes = []; // accepted submits, for the rate limit
let throttleParts = []; // [{seq, times}]: throttle the next parts with this UDH sequence

function tell(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

function receivers() {
  return [...sessions.values()].filter((s) => s.bound && s.mode !== "transmitter");
}

function flush() {
  while (pending.length) {
    const target = receivers()[0];
    if (!target) return;
    const item = pending.shift();
    const pdu = new smpp.PDU("deliver_sm", item.fields);
    target.session.send(pdu, (resp) => {
      tell({ event: "deliver_sm_resp", tag: item.tag, session: target.id, status: resp.command_status });
      if (resp.command_status !== 0) {
        pending.push(item); // the ESME asks for it again later
        setTimeout(flush, 200);
      }
    });
  }
}

function throttled(udh) {
  if (udh) {
    const rule = throttleParts.find((r) => r.seq === udh[2] && r.times > 0);
    if (rule) {
      rule.times -= 1;
      return true;
    }
  }
  if (!config.throttle) return false;
  const now = Date.now();
  while (submitTimes.length && submitTimes[0] <= now - 1000) submitTimes.shift();
  return submitTimes.length >= config.throttle;
}

const server = smpp.createServer((session) => {
  const id = ++nextSession;
  const state = { id, session, mode: null, bound: false, lastIn: Date.now(), probe: null };
  sessions.set(id, state);
  tell({ event: "connect", session: id });

  session.on("pdu", (pdu) => {
    state.lastIn = Date.now();
    if (pdu.command === "enquire_link_resp" && state.probe) {
      clearTimeout(state.probe);
      state.probe = null;
    }
  });
  for (const mode of ["transmitter", "receiver", "transceiver"]) {
    session.on("bind_" + mode, (pdu) => {
      let status = config.bind_status;
      if (!status && pdu.system_id !== config.system_id) status = smpp.ESME_RINVSYSID;
      if (!status && pdu.password !== config.password) status = smpp.ESME_RINVPASWD;
      tell({ event: "bind", session: id, mode, system_id: pdu.system_id, status });
      session.send(pdu.response({ command_status: status, system_id: "TESTSMSC" }));
      if (status) return session.close();
      state.mode = mode;
      state.bound = true;
      flush();
    });
  }
  session.on("enquire_link", (pdu) => {
    tell({ event: "enquire_link", session: id, bound: state.bound });
    session.send(pdu.response());
  });
  session.on("unbind", (pdu) => {
    tell({ event: "unbind", session: id, by: "esme" });
    state.bound = false;
    session.send(pdu.response());
    session.close();
  });
  session.on("submit_sm", (pdu) => {
    const message = pdu.short_message || {};
    const udhList = message.udh || [];
    const concat = udhList.find((u) => u[0] === 0x00);
    const udh = concat ? [concat[2], concat[3], concat[4]] : null;
    let status = 0;
    if (!state.bound || state.mode === "receiver") status = smpp.ESME_RINVBNDSTS;
    else if (throttled(udh)) status = smpp.ESME_RTHROTTLED;
    let messageId = "";
    if (!status) {
      submitTimes.push(Date.now());
      messageId = "NS" + String(++nextMessage).padStart(6, "0");
    }
    tell({
      event: "submit", session: id, t: Date.now() / 1000, status, message_id: messageId,
      source_addr: pdu.source_addr, source_addr_ton: pdu.source_addr_ton,
      source_addr_npi: pdu.source_addr_npi, destination_addr: pdu.destination_addr,
      dest_addr_ton: pdu.dest_addr_ton, dest_addr_npi: pdu.dest_addr_npi,
      esm_class: pdu.esm_class, data_coding: pdu.data_coding,
      registered_delivery: pdu.registered_delivery,
      text: typeof message.message === "string" ? message.message : "", udh,
    });
    session.send(pdu.response({ command_status: status, message_id: messageId }));
  });
  session.on("close", () => {
    if (state.probe) clearTimeout(state.probe);
    sessions.delete(id);
    tell({ event: "close", session: id });
  });
  session.on("error", (error) => tell({ event: "error", session: id, error: String(error) }));
});

// Idle sessions are probed; one that does not answer is unbound, then closed.
setInterval(() => {
  if (!config.enquire_every) return;
  const now = Date.now();
  for (const state of sessions.values()) {
    if (!state.bound || state.probe || now - state.lastIn < config.enquire_every) continue;
    state.session.enquire_link();
    tell({ event: "probe", session: state.id });
    state.probe = setTimeout(() => {
      state.probe = null;
      unbindSession(state, "no enquire_link_resp");
    }, config.enquire_timeout);
  }
}, 50);

function unbindSession(state, reason) {
  if (!state.bound) return;
  state.bound = false;
  tell({ event: "unbind", session: state.id, by: "smsc", reason });
  state.session.unbind();
  setTimeout(() => state.session.close(), 300);
}

function receiptText(cmd) {
  const dlvrd = cmd.stat === "DELIVRD" ? "001" : "000";
  return `id:${cmd.id} sub:001 dlvrd:${dlvrd} submit date:2611241000 done date:2611241001 ` +
    `stat:${cmd.stat} err:${cmd.err || "000"} text:`;
}
const STATES = { DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8 };

const commands = {
  set(cmd) {
    Object.assign(config, cmd.values);
  },
  throttle_part(cmd) {
    throttleParts.push({ seq: cmd.seq, times: cmd.times || 1 });
  },
  receipt(cmd) {
    const fields = {
      source_addr: cmd.phone || "", source_addr_ton: 1, source_addr_npi: 1,
      destination_addr: cmd.sender || "", esm_class: 0x04,
      short_message: Buffer.from(receiptText(cmd), "ascii"),
    };
    if (cmd.tlvs !== false) {
      fields.receipted_message_id = cmd.id;
      fields.message_state = STATES[cmd.stat];
    }
    pending.push({ tag: cmd.tag, fields });
    flush();
  },
  mo(cmd) {
    const ucs2 = cmd.data_coding === 8;
    pending.push({
      tag: cmd.tag,
      fields: {
        source_addr: cmd.from, source_addr_ton: 1, source_addr_npi: 1,
        destination_addr: cmd.to || "36608", data_coding: ucs2 ? 8 : 0,
        short_message: ucs2 ? Buffer.from(cmd.text, "utf16le").swap16() : Buffer.from(cmd.text, "ascii"),
      },
    });
    flush();
  },
  unbind(cmd) {
    for (const state of sessions.values()) {
      if (cmd.mode === "all" || state.mode === cmd.mode) unbindSession(state, "asked");
    }
  },
  drop(cmd) {
    for (const state of sessions.values()) {
      if (cmd.mode === "all" || state.mode === cmd.mode) state.session.destroy();
    }
  },
  stop() {
    for (const state of sessions.values()) state.session.destroy();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 500);
  },
};

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  commands[cmd.cmd](cmd);
  tell({ event: "done", tag: cmd.tag });
});
process.stdin.on("end", () => commands.stop());

server.listen(port, "127.0.0.1", () => tell({ event: "listening", port: server.address().port }));
