// switchboard.js — a small browser client for Switchboard's JSON-RPC API
// (docs/API.md). Plain ES module, no build step, no dependencies.
//
//   import { connect, defaultUrl, linkPeerConnection } from './js/switchboard.js';
//
//   const sb = await connect(defaultUrl());          // ws(s)://<this host>/ws
//   sb.on('peer.state', (p) => console.log(p.pc, p.state, p.reason));
//   const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
//   const link = linkPeerConnection(sb, pc, 'echo'); // trickle both ways
//   ...add tracks...
//   await pc.setLocalDescription(await pc.createOffer());
//   const answer = sb.call('echo.start', { sdp: pc.localDescription.sdp });
//   link.release();                                  // the pc now exists server-side
//   await pc.setRemoteDescription(await answer);     // {type:'answer', sdp, pc}
//   ...
//   await sb.call('bye'); link.detach(); pc.close(); sb.close();
//
// Network blips: with connect(url, {resume: true}) a connection lost without a
// close (code 1006: a cut network, a server ping timeout) is reopened with
// backoff and the session resumed (`session.resume`, docs/API.md) within the
// server's grace: rooms and PeerConnections carry on, the notifications sent
// meanwhile arrive, and the client emits "reconnecting" ({attempt, delayMs}) and
// "resumed" ({session, dropped}); "close" comes only when the session is over.
// Calls made while reconnecting reject with CLIENT_ERROR.
//
// Errors: every promise returned here rejects with an RpcError
// ({code, message, data?}). Server errors carry the JSON-RPC code (1013, -32602…);
// failures on this side use CLIENT_ERROR (-1): not connected, connection closed
// before the response, or no response in time.

/** Code of RpcErrors raised by this client rather than by the server. */
export const CLIENT_ERROR = -1;

/** A JSON-RPC error: `code` and `message` as the server sent them. */
export class RpcError extends Error {
  constructor(code, message, data) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    if (data !== undefined) this.data = data;
  }

  toString() {
    return `${this.message} (${this.code})`;
  }
}

/**
 * The WebSocket URL of the server that served this page:
 * ws:// or wss:// (after the page's scheme) + host + path (default "/ws").
 */
export function defaultUrl(path = '/ws') {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // A page opened with ?token=<JWT> connects with it (docs/API.md "Authentication").
  const token = new URLSearchParams(location.search).get('token');
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${scheme}//${location.host}${path}${query}`;
}

/**
 * Opens a session. Resolves with a connected SwitchboardClient once the
 * WebSocket is open; rejects with an RpcError if it cannot open within
 * `timeoutMs`.
 *
 * Options: timeoutMs (connect, default 10000), callTimeoutMs (default for
 * call(), default 30000; 0 = none), resume (reconnect and resume the session
 * after a lost connection, default false), maxReconnectAttempts (default 10).
 */
export function connect(url = defaultUrl(), options = {}) {
  const client = new SwitchboardClient(url, options);
  return client.opened.then(() => client);
}

/**
 * One JSON-RPC session over one WebSocket (subprotocol "switchboard").
 *
 * Properties: url, session (id from the server's `welcome`, null until then),
 * welcome (a Promise of the `welcome` params), closed (a Promise that resolves
 * with the CloseEvent when the session's connection closes for good), isOpen,
 * reconnecting.
 */
export class SwitchboardClient {
  constructor(url, { timeoutMs = 10000, callTimeoutMs = 30000, resume = false, maxReconnectAttempts = 10 } = {}) {
    this.url = url;
    this.session = null;
    this.callTimeoutMs = callTimeoutMs;
    this.timeoutMs = timeoutMs;
    this.resume = resume;
    this.maxReconnectAttempts = maxReconnectAttempts;
    this.reconnecting = false;
    this._resumeToken = null; // from welcome, renewed by every session.resume
    this._resumeGraceS = 0;
    this._closing = false; // close() was called: never reconnect
    this._nextId = 1;
    this._pending = new Map(); // id -> {resolve, reject, timer, method}
    this._handlers = new Map(); // notification method -> Set of handlers

    this._ws = new WebSocket(url, 'switchboard');

    let welcomed;
    this.welcome = new Promise((resolve) => { welcomed = resolve; });
    this.on('welcome', (params) => {
      this.session = params.session ?? null;
      this._resumeToken = params.resume_token ?? null;
      this._resumeGraceS = params.resume_grace ?? 0;
      welcomed(params);
    });

    this.opened = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new RpcError(CLIENT_ERROR, `WebSocket ${url}: no connection after ${timeoutMs} ms`));
        this._ws.close();
      }, timeoutMs);
      this._ws.addEventListener('open', () => { clearTimeout(timer); resolve(); });
      this._ws.addEventListener('close', (ev) => {
        clearTimeout(timer);
        reject(new RpcError(CLIENT_ERROR, `WebSocket ${url}: could not connect (close code ${ev.code})`));
      });
    });
    // Nobody may await `opened` (connect() does); never report it unhandled.
    this.opened.catch(() => {});

    this.closed = new Promise((resolve) => { this._resolveClosed = resolve; });
    this._attach(this._ws);
  }

  get isOpen() {
    return !this.reconnecting && this._ws.readyState === WebSocket.OPEN;
  }

  _attach(ws) {
    ws.addEventListener('message', (ev) => { if (ws === this._ws) this._receive(ev.data); });
    ws.addEventListener('close', (ev) => { if (ws === this._ws) this._lost(ev); });
  }

  _lost(ev) {
    this._failPending(`connection closed (code ${ev.code}${ev.reason ? ': ' + ev.reason : ''})`);
    // 1006: closed without a close frame, i.e. the network (or a ping timeout),
    // not the server or us: the session is held for us, go and get it.
    if (this.resume && !this._closing && ev.code === 1006 && this._resumeToken && this._resumeGraceS > 0) {
      this._reconnect(ev);
      return;
    }
    this._emit('close', ev);
    this._resolveClosed(ev);
  }

  async _reconnect(lostEv) {
    this.reconnecting = true;
    const deadline = Date.now() + this._resumeGraceS * 1000;
    let delayMs = 250;
    for (let attempt = 1; attempt <= this.maxReconnectAttempts && !this._closing; attempt++) {
      if (Date.now() + delayMs >= deadline) break;
      this._emit('reconnecting', { attempt, delayMs });
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(delayMs * 2, 4000);
      if (this._closing) break;
      let ws = null;
      try {
        ws = await this._openSocket();
        const res = await this._resumeOn(ws);
        this._ws = ws;
        this._attach(ws);
        this._resumeToken = res.resume_token ?? null;
        this.reconnecting = false;
        this._emit('resumed', { session: this.session, dropped: res.dropped ?? 0, attempt });
        return;
      } catch (err) {
        if (ws) ws.close();
        if (err.code === 1051) break; // the server no longer has the session
      }
    }
    this.reconnecting = false;
    this._emit('close', lostEv);
    this._resolveClosed(lostEv);
  }

  _openSocket() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, 'switchboard');
      const timer = setTimeout(() => { ws.close(); reject(new RpcError(CLIENT_ERROR, 'no connection')); }, this.timeoutMs);
      ws.addEventListener('open', () => { clearTimeout(timer); resolve(ws); });
      ws.addEventListener('close', () => { clearTimeout(timer); reject(new RpcError(CLIENT_ERROR, 'no connection')); });
    });
  }

  // session.resume on a new socket. Its own welcome is not ours; the
  // notifications held for our session arrive before the answer.
  _resumeOn(ws) {
    return new Promise((resolve, reject) => {
      const id = this._nextId++;
      const done = () => {
        ws.removeEventListener('message', onMessage);
        ws.removeEventListener('close', onClose);
        clearTimeout(timer);
      };
      const onMessage = (ev) => {
        let msg;
        try { msg = JSON.parse(ev.data); } catch { return; }
        if (msg.method === 'welcome') return;
        if (msg.id === id && !msg.method) {
          done();
          if (msg.error) reject(new RpcError(msg.error.code, msg.error.message ?? 'error', msg.error.data));
          else resolve(msg.result);
          return;
        }
        this._receive(ev.data);
      };
      const onClose = () => { done(); reject(new RpcError(CLIENT_ERROR, 'session.resume: connection closed')); };
      const timer = setTimeout(() => { done(); reject(new RpcError(CLIENT_ERROR, 'session.resume: no answer')); },
        this.timeoutMs);
      ws.addEventListener('message', onMessage);
      ws.addEventListener('close', onClose);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'session.resume',
        params: { session: this.session, resume_token: this._resumeToken } }));
    });
  }

  /**
   * Sends a request; resolves with its `result`, rejects with an RpcError.
   * The request is written to the socket before call() returns, so messages
   * sent after it (e.g. trickle) reach the server after it.
   */
  call(method, params = {}, { timeoutMs = this.callTimeoutMs } = {}) {
    if (!this.isOpen) {
      return Promise.reject(new RpcError(CLIENT_ERROR, `${method}: not connected`));
    }
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, method, timer: null };
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this._pending.delete(id);
          reject(new RpcError(CLIENT_ERROR, `${method}: no response after ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this._pending.set(id, entry);
      this._ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Sends a notification (no response expected). */
  notify(method, params = {}) {
    if (this.isOpen) this._ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /**
   * Calls handler(params, message) for every server notification `method`
   * ("welcome", "trickle", "peer.state", …). The pseudo-method "close" is
   * emitted with the CloseEvent when the socket closes. Returns a function that
   * removes the handler.
   */
  on(method, handler) {
    if (!this._handlers.has(method)) this._handlers.set(method, new Set());
    this._handlers.get(method).add(handler);
    return () => this.off(method, handler);
  }

  off(method, handler) {
    this._handlers.get(method)?.delete(handler);
  }

  /** Closes the session: the server releases its calls and PeerConnections. */
  close(code = 1000, reason = '') {
    this._closing = true;
    this._ws.close(code, reason);
  }

  _receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      console.warn('switchboard: not JSON:', text);
      return;
    }
    if (msg.id !== undefined && msg.id !== null && !msg.method) {
      const entry = this._pending.get(msg.id);
      if (!entry) return; // timed out already
      this._pending.delete(msg.id);
      clearTimeout(entry.timer);
      if (msg.error) {
        const e = msg.error;
        entry.reject(new RpcError(e.code, e.message ?? 'error', e.data));
      } else {
        entry.resolve(msg.result);
      }
    } else if (typeof msg.method === 'string') {
      this._emit(msg.method, msg.params ?? {}, msg);
    } else if (msg.error) {
      // An error without an id: the server could not read a request at all.
      console.warn('switchboard: error without id:', msg.error);
      this._emit('error', msg.error, msg);
    }
  }

  _emit(method, params, msg) {
    for (const handler of this._handlers.get(method) ?? []) {
      try {
        handler(params, msg);
      } catch (e) {
        console.error(`switchboard: ${method} handler failed:`, e);
      }
    }
  }

  _failPending(why) {
    for (const [id, entry] of this._pending) {
      clearTimeout(entry.timer);
      entry.reject(new RpcError(CLIENT_ERROR, `${entry.method}: ${why}`));
    }
    this._pending.clear();
  }
}

/**
 * Wires an RTCPeerConnection to the server-side PeerConnection `pcId`:
 *
 * - local ICE candidates go to the server as `trickle` requests, and the end
 *   of gathering as `trickle {completed: true}`. They are queued until
 *   release() is called — call it right after sending the request that creates
 *   the PeerConnection on the server (e.g. echo.start); the server applies
 *   candidates that arrive before its answer in order.
 * - the server's `trickle` notifications for `pcId` are applied with
 *   addIceCandidate, once the remote description is set (they are queued until
 *   then); `completed` becomes an end-of-candidates addIceCandidate.
 *
 * Options: onError(err, what) — called when a trickle request is refused or
 * addIceCandidate fails (default: console.warn). Trickle failures do not stop
 * the call: ICE may still succeed with the other candidates.
 *
 * Returns { release(), detach(), sent, received }: sent/received count the
 * candidates exchanged (for display or tests).
 */
export function linkPeerConnection(client, pc, pcId, { onError } = {}) {
  const report = onError ?? ((err, what) => console.warn(`switchboard: ${what}:`, err));
  const outbox = []; // trickle params waiting for release()
  const inbox = []; // server candidates waiting for a remote description
  let released = false;
  let detached = false;
  const stats = { sent: 0, received: 0 };

  const sendTrickle = (params) => {
    client.call('trickle', params).catch((err) => report(err, `trickle to server (${params.candidate ?? 'completed'})`));
  };

  const onIceCandidate = (ev) => {
    let params;
    if (ev.candidate && ev.candidate.candidate) {
      params = {
        pc: pcId,
        candidate: ev.candidate.candidate,
        sdpMid: ev.candidate.sdpMid,
        sdpMLineIndex: ev.candidate.sdpMLineIndex,
      };
      stats.sent++;
    } else if (!ev.candidate) {
      params = { pc: pcId, completed: true }; // gathering is complete
    } else {
      return; // legacy per-m-section end-of-candidates (empty string): the null event follows
    }
    if (released) sendTrickle(params);
    else outbox.push(params);
  };

  const applyRemote = (params) => {
    let init;
    if (params.completed || !params.candidate) {
      // End of candidates: an empty candidate for the (bundled) first m-section.
      const firstMid = pc.remoteDescription.sdp.match(/^a=mid:(\S+)/m)?.[1] ?? '0';
      init = { candidate: '', sdpMid: params.sdpMid ?? firstMid, sdpMLineIndex: params.sdpMLineIndex ?? 0 };
    } else {
      init = { candidate: params.candidate, sdpMid: params.sdpMid, sdpMLineIndex: params.sdpMLineIndex };
    }
    if (!params.completed) stats.received++;
    pc.addIceCandidate(init).catch((err) => report(err, `addIceCandidate(${init.candidate || 'end-of-candidates'})`));
  };

  const flushInbox = () => {
    if (!pc.remoteDescription) return;
    while (inbox.length) applyRemote(inbox.shift());
  };

  const offTrickle = client.on('trickle', (params) => {
    if (detached || (params.pc !== undefined && params.pc !== pcId)) return;
    if (pc.signalingState === 'closed') return;
    if (pc.remoteDescription) applyRemote(params);
    else inbox.push(params);
  });

  pc.addEventListener('icecandidate', onIceCandidate);
  pc.addEventListener('signalingstatechange', flushInbox);

  return {
    get sent() { return stats.sent; },
    get received() { return stats.received; },
    /** The server now knows `pcId`: send the queued and all later candidates. */
    release() {
      if (released || detached) return;
      released = true;
      while (outbox.length) sendTrickle(outbox.shift());
    },
    /** Stops trickling (call before or after pc.close()). */
    detach() {
      detached = true;
      outbox.length = 0;
      inbox.length = 0;
      offTrickle();
      pc.removeEventListener('icecandidate', onIceCandidate);
      pc.removeEventListener('signalingstatechange', flushInbox);
    },
  };
}
