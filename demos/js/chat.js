// chat.js — the conference page's chat pane, over video-room data tracks
// (docs/API.md "Data tracks"). Each participant publishes one data channel
// labelled "chat" on its publisher PeerConnection; the server opens a channel of
// the same label on every other participant's subscriber PeerConnection and
// forwards each message as is. A message is JSON the pages agree on:
//   {"type": "chat", "from": "<participant id>", "name": "<display>", "text": "…", "ts": ms}
// The server does not read it; a page shows `name` as the sender and escapes text.
//
//   import { createChat } from './chat.js';
//   const chat = createChat(rootElement);
//   chat.publishOn(pc, { id, name });   // before createOffer on the publisher pc
//   chat.receiveOn(pc);                 // the subscriber pc (ondatachannel)
//   chat.reset();                       // on leave
//   chat.messages                       // [{from, name, text, ts, own}] shown so far (tests)

export const CHAT_LABEL = 'chat';
const MAX_TEXT = 2000;
const MAX_SHOWN = 200;

export function createChat(root) {
  const list = root.querySelector('.chat-messages');
  const form = root.querySelector('form');
  const input = root.querySelector('input');
  const send = root.querySelector('button');
  const status = root.querySelector('.chat-status');
  const chat = {
    channel: null,      // ours (publisher pc)
    self: null,         // {id, name}
    messages: [],
    received: 0,
  };

  const setStatus = (text) => { status.textContent = text; };
  const setEnabled = (on) => {
    input.disabled = !on;
    send.disabled = !on;
  };

  function show(msg) {
    chat.messages.push(msg);
    if (chat.messages.length > MAX_SHOWN) chat.messages.shift();
    const li = document.createElement('li');
    if (msg.own) li.className = 'own';
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = msg.own ? 'You' : msg.name;
    const when = document.createElement('time');
    when.textContent = new Date(msg.ts).toLocaleTimeString();
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = msg.text;   // never innerHTML: the text comes from other people
    li.append(who, when, text);
    list.append(li);
    while (list.childElementCount > MAX_SHOWN) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
  }

  function onMessage(ev) {
    if (typeof ev.data !== 'string' || ev.data.length > 4 * MAX_TEXT) return;
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!m || m.type !== 'chat' || typeof m.text !== 'string') return;
    chat.received++;
    show({
      from: String(m.from ?? ''),
      name: String(m.name ?? m.from ?? '?').slice(0, 64),
      text: m.text.slice(0, MAX_TEXT),
      ts: Number.isFinite(m.ts) ? m.ts : Date.now(),
      own: false,
    });
  }

  chat.publishOn = (pc, self) => {
    chat.self = self;
    const ch = pc.createDataChannel(CHAT_LABEL, { ordered: true });
    chat.channel = ch;
    setStatus('connecting…');
    ch.onopen = () => { if (chat.channel === ch) { setEnabled(true); setStatus(''); input.focus(); } };
    ch.onclose = () => { if (chat.channel === ch) { setEnabled(false); setStatus('chat closed'); } };
    return ch;
  };

  chat.receiveOn = (pc) => {
    pc.addEventListener('datachannel', (ev) => {
      if (ev.channel.label === CHAT_LABEL) ev.channel.onmessage = onMessage;
    });
  };

  chat.send = (text) => {
    const t = String(text).trim().slice(0, MAX_TEXT);
    if (!t || !chat.channel || chat.channel.readyState !== 'open') return false;
    const m = { type: 'chat', from: chat.self?.id ?? '', name: chat.self?.name ?? '', text: t, ts: Date.now() };
    chat.channel.send(JSON.stringify(m));
    show({ ...m, own: true });
    return true;
  };

  chat.reset = () => {
    chat.channel = null;
    chat.self = null;
    setEnabled(false);
    setStatus('');
  };

  chat.clear = () => {
    chat.messages = [];
    list.replaceChildren();
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (chat.send(input.value)) input.value = '';
  });
  setEnabled(false);
  return chat;
}
