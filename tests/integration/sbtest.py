"""Shared harness for Switchboard's Python integration tests.

Run tests with /usr/bin/python3 (Debian's aiortc 1.4, websockets 10.x), normally
through tests/integration/run.sh, which gives each test its own network namespace
with only `lo` (see /work/shared/TESTING.md).

What is here:
  Tap                 TAP reporter: check(cond, name, detail), diag(), exit code
  Server              starts/stops the switchboard binary (SB_BUILD / SB_BUILD_ASAN)
  sanitizer_env(), sanitizer_reports(log)   for Server(asan=True) and its log
  RpcClient, RpcError JSON-RPC 2.0 over WebSocket (subprotocol "switchboard")
  patch_aioice()      makes aioice gather 127.0.0.1 (it never offers loopback)
  CounterVideoTrack   VideoStreamTrack drawing a frame counter into the pixels
  decode_counter()    reads that counter back from a (decoded) frame
  EchoPeer            an aiortc peer (counter video + audio) that counts what it gets back
                      (also the publisher of the room tests: send_direction="sendonly")
  RoomSubscriber      an aiortc subscriber of a video room: answers room.offer, decodes
                      the counters of every track it receives (docs/API.md "Video rooms")
  run_test()          runs an async test body under a global timeout, reports, exits

Every wait is bounded by a timeout; every process started here is stopped in a
finally block (Server is a context manager and is also killed at interpreter exit).
"""

import asyncio
import atexit
import fractions
import json
import os
import signal
import socket
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(ROOT, "test-results")
PYTHON = "/usr/bin/python3"


def test_name():
    """Name of the running test script, e.g. 'test_aiortc_echo'."""
    return os.path.splitext(os.path.basename(sys.argv[0]))[0] or "test"


# --------------------------------------------------------------------------
# TAP reporter


class Tap:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.t0 = time.monotonic()

    def check(self, cond, name, detail=""):
        """Report one check; returns bool(cond). detail is printed as a comment."""
        ok = bool(cond)
        if ok:
            self.passed += 1
            print(f"ok - {name}", flush=True)
        else:
            self.failed += 1
            print(f"not ok - {name}", flush=True)
        if detail:
            for line in str(detail).splitlines():
                print(f"#   {line}", flush=True)
        return ok

    def diag(self, msg):
        for line in str(msg).splitlines():
            print(f"# {line}", flush=True)

    def elapsed(self):
        return time.monotonic() - self.t0

    def summary(self):
        """Print the summary; returns the exit code (1 if any check failed)."""
        total = self.passed + self.failed
        print(f"# {self.passed}/{total} checks passed, {self.failed} failed, "
              f"{self.elapsed():.1f}s", flush=True)
        if total == 0:
            print("not ok - no checks were run", flush=True)
            return 1
        return 1 if self.failed else 0


tap = Tap()


def run_test(body, timeout=110):
    """Run `async def body()` with a global timeout; report any exception as a
    failed check; print the summary; exit with its code."""
    async def guarded():
        try:
            await asyncio.wait_for(body(), timeout)
        except asyncio.TimeoutError:
            tap.check(False, f"test finished within {timeout}s", traceback.format_exc())
        except Exception as e:  # noqa: BLE001 - any failure is a failed check
            tap.check(False, f"test body raised {type(e).__name__}: {e}",
                      traceback.format_exc())
    try:
        asyncio.run(guarded())
    finally:
        _kill_leftovers()
    sys.exit(tap.summary())


# --------------------------------------------------------------------------
# Server process

_live_processes = []


def _kill_leftovers():
    for p in list(_live_processes):
        try:
            if isinstance(p, subprocess.Popen):
                if p.poll() is None:
                    p.kill()
                    p.wait(5)
            elif p.returncode is None:      # an asyncio Process
                os.kill(p.pid, signal.SIGKILL)
        except Exception:  # noqa: BLE001
            pass
        if p in _live_processes:
            _live_processes.remove(p)


atexit.register(_kill_leftovers)


def track_process(p):
    """Register a subprocess.Popen (or asyncio Process) to be killed at exit
    if still running."""
    _live_processes.append(p)
    return p


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The switchboard daemon.

    Server(asan=False, overrides={...}, env={...}); start(); ...; rc = stop().
    Also a context manager (start on enter, stop on exit). Logs (stdout and
    stderr together) go to test-results/<name>-server.log.
    """

    def __init__(self, name=None, asan=False, overrides=None, env=None,
                 log_level=None, port=None, media_ports=(20000, 20999)):
        if asan:
            build = os.environ.get("SB_BUILD_ASAN", os.path.join(ROOT, "build-asan"))
        else:
            build = os.environ.get("SB_BUILD", os.path.join(ROOT, "build"))
        self.binary = os.path.join(build, "switchboard")
        self.asan = asan
        self.name = name or test_name()
        self.port = port or free_port()
        self.url = f"ws://127.0.0.1:{self.port}/ws"
        os.makedirs(RESULTS, exist_ok=True)
        self.log_path = os.path.join(RESULTS, f"{self.name}-server.log")
        opts = {
            "http.address": "127.0.0.1",
            "http.port": str(self.port),
            "media.addresses": "127.0.0.1",
            "media.port_min": str(media_ports[0]),
            "media.port_max": str(media_ports[1]),
            "general.workers": "2",
            # Every test connects from 127.0.0.1: generous [limits] so that none
            # trips the production defaults by accident (test_limits* set their own).
            "limits.connections_per_second": "200",
            "limits.connection_burst": "400",
            "limits.max_connections_per_ip": "500",
            "limits.messages_per_second": "1000",
            "limits.message_burst": "2000",
            # Tests join without tokens unless they override it (test_auth_roles).
            "auth.anonymous": "true",
        }
        opts.update(overrides or {})
        self.args = [self.binary, "-c", "conf/switchboard.conf"]
        if log_level:
            self.args += ["-l", log_level]
        for k, v in opts.items():
            self.args += ["-o", f"{k}={v}"]
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc = None
        self._log = None
        self.exit_code = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, timeout=None):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError(f"{self.binary} not found: build it with tools/dev build")
        timeout = timeout or (30 if self.asan else 10)
        self._log = open(self.log_path, "wb")
        self.proc = track_process(subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT))
        tap.diag(f"server pid {self.proc.pid}: {' '.join(self.args)}")
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} during start-up; "
                                   f"log:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not accept on port {self.port} within "
                                   f"{timeout}s; log:\n{self.log_tail()}")
            time.sleep(0.1)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20):
        """SIGTERM, wait up to timeout (then SIGKILL). Returns the exit code
        (negative: killed by that signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                tap.diag(f"server did not exit {timeout}s after SIGTERM: its threads, then SIGKILL")
                self.dump_stacks()
                self.proc.kill()
                self.proc.wait(5)
        self.exit_code = self.proc.returncode
        if self.proc in _live_processes:
            _live_processes.remove(self.proc)
        if self._log:
            self._log.close()
            self._log = None
        return self.exit_code

    def dump_stacks(self, timeout=20):
        """Every thread's backtrace (gdb), into test-results/<name>-server-stacks.txt
        and the TAP output. For a server that hangs."""
        path = os.path.join(RESULTS, f"{self.name}-server-stacks.txt")
        try:
            r = subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-nx",
                                "-ex", "set pagination off", "-ex", "thread apply all bt"],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=timeout)
            text = r.stdout + r.stderr
        except (OSError, subprocess.TimeoutExpired) as e:
            text = f"gdb failed: {e!r}\n"
            for t in sorted(os.listdir(f"/proc/{self.proc.pid}/task")):
                try:
                    comm = open(f"/proc/{self.proc.pid}/task/{t}/comm").read().strip()
                    wchan = open(f"/proc/{self.proc.pid}/task/{t}/wchan").read().strip()
                    text += f"thread {t} {comm}: wchan {wchan}\n"
                except OSError:
                    pass
        with open(path, "w") as f:
            f.write(text)
        keep = [l for l in text.splitlines()
                if l.startswith("Thread ") or l.startswith("#")]
        tap.diag(f"server threads (full: {path}):\n" + "\n".join(keep[:150]))
        return text

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def log_grep(self, *needles):
        """Lines of the log containing every needle (case-insensitive)."""
        low = [n.lower() for n in needles]
        return [l for l in self.log_text().splitlines() if all(n in l.lower() for n in low)]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


# --------------------------------------------------------------------------
# JSON-RPC over WebSocket


def sanitizer_env():
    """Environment for a Server(asan=True): leak detection on, UBSan stack traces,
    tests/lsan.supp when present."""
    env = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
           "UBSAN_OPTIONS": "print_stacktrace=1"}
    supp = os.path.join(ROOT, "tests", "lsan.supp")
    if os.path.exists(supp):
        env["LSAN_OPTIONS"] = f"suppressions={supp}:print_suppressions=1"
    return env


def sanitizer_reports(log_text):
    """The AddressSanitizer, LeakSanitizer and UBSan report lines of a server log."""
    return [line for line in log_text.splitlines()
            if "ERROR: AddressSanitizer" in line or "ERROR: LeakSanitizer" in line
            or "runtime error:" in line]


class RpcError(Exception):
    def __init__(self, error, response=None):
        self.error = error if isinstance(error, dict) else {"code": None, "message": str(error)}
        self.code = self.error.get("code")
        self.message = self.error.get("message")
        self.response = response
        super().__init__(f"JSON-RPC error {self.code}: {self.message}")


class RpcClient:
    """One session. `await RpcClient.connect(url)`; `await c.call(method, params)`.

    Responses whose id is not a pending call (e.g. errors with id null for a
    message that did not parse) go to a queue: `await c.next_unmatched(timeout)`.
    Notifications are kept in order: `await c.wait_notification(method, pred)`.
    """

    def __init__(self, ws):
        self.ws = ws
        self._next_id = 1
        self._pending = {}
        self._unmatched = asyncio.Queue()
        self.notifications = []       # every notification: (time.monotonic(), msg)
        self._consumed = set()        # indexes of notifications already returned
        self._arrival = asyncio.Event()
        self.closed = None            # (code, reason) once closed
        self.session = None
        self._listeners = {}          # method -> [callback(params)]
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url, timeout=10, wait_welcome=True):
        import websockets
        ws = await asyncio.wait_for(websockets.connect(
            url, subprotocols=["switchboard"], max_size=2 ** 24, ping_interval=None,
            open_timeout=timeout, close_timeout=3), timeout + 1)
        c = cls(ws)
        if wait_welcome:
            w = await c.wait_notification("welcome", timeout=timeout)
            c.session = w.get("session")
        return c

    async def _read(self):
        try:
            async for raw in self.ws:
                try:
                    msg = json.loads(raw)
                except (ValueError, TypeError):
                    self.notifications.append((time.monotonic(), {"method": "<bad json>", "raw": raw}))
                    self._arrival.set()
                    continue
                if isinstance(msg, dict) and "id" in msg and ("result" in msg or "error" in msg):
                    fut = self._pending.pop(msg["id"], None) if _hashable(msg["id"]) else None
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                    else:
                        self._unmatched.put_nowait(msg)
                elif isinstance(msg, dict) and "method" in msg:
                    self.notifications.append((time.monotonic(), msg))
                    self._arrival.set()
                    for fn in list(self._listeners.get(msg["method"], ())):
                        try:
                            r = fn(msg.get("params") or {})
                            if asyncio.iscoroutine(r):
                                asyncio.ensure_future(r)
                        except Exception:  # noqa: BLE001 - a listener's bug is not the reader's
                            traceback.print_exc()
                else:
                    self._unmatched.put_nowait(msg)
        except Exception:  # noqa: BLE001 - connection closed abnormally
            pass
        finally:
            self.closed = (getattr(self.ws, "close_code", None), getattr(self.ws, "close_reason", None))
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError(f"WebSocket closed {self.closed}"))
            self._pending.clear()
            self._arrival.set()

    async def request(self, method, params=None, timeout=10, id=None):
        """Send a request; return the whole response object (result or error)."""
        if self.closed:
            raise ConnectionError(f"WebSocket closed {self.closed}")
        if id is None:
            id = self._next_id
            self._next_id += 1
        msg = {"jsonrpc": "2.0", "id": id, "method": method}
        if params is not None:
            msg["params"] = params
        fut = asyncio.get_running_loop().create_future()
        self._pending[id] = fut
        await self.ws.send(json.dumps(msg))
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise asyncio.TimeoutError(f"no response to {method} within {timeout}s") from None
        finally:
            self._pending.pop(id, None)

    async def call(self, method, params=None, timeout=10):
        """Result of the call, or raise RpcError (.code, .message)."""
        resp = await self.request(method, params, timeout)
        if "error" in resp:
            raise RpcError(resp["error"], resp)
        return resp["result"]

    async def call_error(self, method, params=None, timeout=10):
        """For calls expected to fail: returns the error object, or
        {'code': None, 'result': ...} when it unexpectedly succeeded."""
        resp = await self.request(method, params, timeout)
        if "error" in resp:
            return resp["error"]
        return {"code": None, "message": "no error: the call succeeded", "result": resp.get("result")}

    async def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        await self.ws.send(json.dumps(msg))

    async def send_raw(self, data):
        """Send a text (str) or binary (bytes) frame as is."""
        await self.ws.send(data)

    async def next_unmatched(self, timeout=10):
        """Next response that matched no pending call (e.g. id null)."""
        try:
            return await asyncio.wait_for(self._unmatched.get(), timeout)
        except asyncio.TimeoutError:
            raise asyncio.TimeoutError(f"no response within {timeout}s") from None

    async def raw_exchange(self, data, timeout=10):
        """Send a raw frame, return the next unmatched response."""
        await self.send_raw(data)
        return await self.next_unmatched(timeout)

    async def wait_notification(self, method, predicate=None, timeout=10):
        """Params of the first not-yet-returned notification `method` for which
        predicate(params) is true, waiting up to timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for i, (_, msg) in enumerate(self.notifications):
                if i in self._consumed or msg.get("method") != method:
                    continue
                params = msg.get("params") or {}
                if predicate is None or predicate(params):
                    self._consumed.add(i)
                    return params
            left = deadline - time.monotonic()
            if self.closed:
                raise ConnectionError(f"WebSocket closed {self.closed} while waiting for {method}")
            if left <= 0:
                seen = [m.get("method") for _, m in self.notifications]
                raise asyncio.TimeoutError(
                    f"no '{method}' notification within {timeout}s (seen: {seen})")
            self._arrival.clear()
            try:
                await asyncio.wait_for(self._arrival.wait(), left)
            except asyncio.TimeoutError:
                pass

    def on(self, method, fn):
        """Also call fn(params) for every later notification `method` (as it
        arrives; a coroutine it returns is scheduled). wait_notification still
        sees them."""
        self._listeners.setdefault(method, []).append(fn)

    def notifications_of(self, method):
        return [m.get("params") or {} for _, m in self.notifications if m.get("method") == method]

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 5)
        except Exception:  # noqa: BLE001
            pass
        try:
            await asyncio.wait_for(self._reader, 5)
        except Exception:  # noqa: BLE001
            self._reader.cancel()


def _hashable(x):
    try:
        hash(x)
        return True
    except TypeError:
        return False


# --------------------------------------------------------------------------
# aiortc helpers


def patch_aioice():
    """aioice never offers 127.0.0.1; in a namespace with only lo it would gather
    nothing. Call before creating RTCPeerConnections (TESTING.md §3)."""
    import aioice.ice
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]


# The counter is drawn as a 5x4 grid of black/white blocks (64x60 pixels at
# 320x240): 16 data bits (MSB first) + 4 check bits (XOR of the 4 nibbles,
# inverted). Flat blocks of full black/white survive VP8 at any bitrate; the
# check bits make a misread come out as None rather than a wrong counter.
GRID_COLS, GRID_ROWS = 5, 4


def _check_bits(counter):
    c = counter & 0xFFFF
    x = (c ^ (c >> 4) ^ (c >> 8) ^ (c >> 12)) & 0xF
    return x ^ 0xF


def counter_bits(counter):
    value = ((counter & 0xFFFF) << 4) | _check_bits(counter)
    return [(value >> (19 - i)) & 1 for i in range(20)]


def draw_counter(counter, width=320, height=240):
    """An av.VideoFrame (yuv420p) showing `counter`."""
    import av
    import numpy as np
    y = np.zeros((height, width), dtype=np.uint8)
    bits = counter_bits(counter)
    bw, bh = width // GRID_COLS, height // GRID_ROWS
    for i, b in enumerate(bits):
        r, c = divmod(i, GRID_COLS)
        y[r * bh:(r + 1) * bh, c * bw:(c + 1) * bw] = 235 if b else 16
    uv = np.full((height // 2, width), 128, dtype=np.uint8)
    return av.VideoFrame.from_ndarray(np.vstack([y, uv]), format="yuv420p")


def decode_counter(frame):
    """The counter drawn by draw_counter in a decoded av.VideoFrame (any size),
    or None when the blocks do not read as a valid code."""
    y = frame.to_ndarray(format="gray")
    h, w = y.shape
    bw, bh = w / GRID_COLS, h / GRID_ROWS
    value = 0
    for i in range(GRID_COLS * GRID_ROWS):
        r, c = divmod(i, GRID_COLS)
        # the middle half of the block, away from edges smeared by the codec
        y0, y1 = int(r * bh + bh / 4), int(r * bh + 3 * bh / 4)
        x0, x1 = int(c * bw + bw / 4), int(c * bw + 3 * bw / 4)
        m = float(y[y0:y1, x0:x1].mean())
        if 90 < m < 160:      # neither black nor white: not our pattern
            return None
        value = (value << 1) | (1 if m >= 128 else 0)
    counter, check = value >> 4, value & 0xF
    return counter if check == _check_bits(counter) else None


def make_counter_track(width=320, height=240, fps=30):
    from aiortc.mediastreams import VideoStreamTrack, MediaStreamError

    class CounterVideoTrack(VideoStreamTrack):
        """Sends frames 0, 1, 2… with the counter drawn in the pixels; remembers
        which counters were sent (self.sent) and when (self.sent_at)."""

        def __init__(self):
            super().__init__()
            self.width, self.height, self.fps = width, height, fps
            self.counter = 0
            self.sent = set()
            self.sent_at = {}
            self._t0 = None

        async def recv(self):
            if self.readyState != "live":
                raise MediaStreamError
            now = time.time()
            if self._t0 is None:
                self._t0 = now
            else:
                wait = self._t0 + self.counter / self.fps - now
                if wait > 0:
                    await asyncio.sleep(wait)
            n = self.counter
            self.counter += 1
            frame = draw_counter(n, self.width, self.height)
            frame.pts = int(n * 90000 / self.fps)
            frame.time_base = fractions.Fraction(1, 90000)
            self.sent.add(n & 0xFFFF)
            self.sent_at[n & 0xFFFF] = time.monotonic()
            return frame

    return CounterVideoTrack()


def make_tone_track(freq=440.0):
    """An audio track with a sine tone (48 kHz mono s16, 20 ms frames)."""
    import av
    import numpy as np
    from aiortc.mediastreams import AudioStreamTrack, MediaStreamError

    class ToneTrack(AudioStreamTrack):
        def __init__(self):
            super().__init__()
            self.sent = 0
            self._t0 = None

        async def recv(self):
            if self.readyState != "live":
                raise MediaStreamError
            rate, samples = 48000, 960
            now = time.time()
            if self._t0 is None:
                self._t0 = now
            else:
                wait = self._t0 + self.sent * samples / rate - now
                if wait > 0:
                    await asyncio.sleep(wait)
            t = (np.arange(samples) + self.sent * samples) / rate
            pcm = (np.sin(2 * np.pi * freq * t) * 8000).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = self.sent * samples
            frame.time_base = fractions.Fraction(1, rate)
            self.sent += 1
            return frame

    return ToneTrack()


class EchoPeer:
    """An aiortc peer sending the counter video and a tone, counting what comes
    back. offer() → SDP text; set_answer(sdp); then video_frames, decoded
    (list of (monotonic time, counter or None)), audio_frames grow."""

    def __init__(self, video=True, audio=True, fps=30, width=320, height=240,
                 send_direction=None):
        from aiortc import RTCPeerConnection
        patch_aioice()
        self.pc = RTCPeerConnection()
        self.video_track = make_counter_track(width, height, fps) if video else None
        self.audio_track = make_tone_track() if audio else None
        if self.video_track:
            self.pc.addTrack(self.video_track)
        if self.audio_track:
            self.pc.addTrack(self.audio_track)
        if send_direction:          # e.g. "sendonly" for a room publisher
            for t in self.pc.getTransceivers():
                t.direction = send_direction
        self.video_frames = 0
        self.decoded = []
        self.audio_frames = 0
        self.remote_tracks = []
        self.errors = []
        self._tasks = []
        self.pc.on("track", self._on_track)

    def _on_track(self, track):
        self.remote_tracks.append(track.kind)
        self._tasks.append(asyncio.ensure_future(self._consume(track)))

    async def _consume(self, track):
        from aiortc.mediastreams import MediaStreamError
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.video_frames += 1
                    self.decoded.append((time.monotonic(), decode_counter(frame)))
                else:
                    self.audio_frames += 1
        except MediaStreamError:
            pass
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            self.errors.append(repr(e))

    async def offer(self, timeout=10):
        desc = await asyncio.wait_for(self.pc.createOffer(), timeout)
        await asyncio.wait_for(self.pc.setLocalDescription(desc), timeout)
        return self.pc.localDescription.sdp

    async def set_answer(self, sdp, timeout=10):
        from aiortc import RTCSessionDescription
        await asyncio.wait_for(self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=sdp, type="answer")), timeout)

    async def wait_video_frames(self, n, timeout):
        """Wait until n video frames were received; returns the count."""
        deadline = time.monotonic() + timeout
        while self.video_frames < n and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return self.video_frames

    def decoded_since(self, t):
        return [c for (ts, c) in self.decoded if ts >= t]

    def counter_quality(self, since=0.0):
        """(frames, valid, in_sent, increasing_pairs, pairs) over frames received
        at or after `since` (monotonic)."""
        cs = self.decoded_since(since)
        valid = [c for c in cs if c is not None]
        sent = self.video_track.sent if self.video_track else set()
        in_sent = sum(1 for c in valid if c in sent)
        pairs = list(zip(valid, valid[1:]))
        inc = sum(1 for a, b in pairs if b > a)
        return len(cs), len(valid), in_sent, inc, len(pairs)

    async def close(self):
        for t in self._tasks:
            t.cancel()
        try:
            await asyncio.wait_for(self.pc.close(), 10)
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"close: {e!r}")
        for t in self._tasks:
            try:
                await asyncio.wait_for(t, 2)
            except BaseException:  # noqa: BLE001
                pass


class RoomSubscriber:
    """The subscriber side of a video-room participant, in aiortc: answers every
    room.offer of `client` (in order; room.answer with its version), applies the
    server's trickle for pc "subscriber", and decodes what arrives.

    offers          room.offer params in arrival order (each with "answered": True
                    or the error text)
    track_of_mid    mid -> {"track", "participant", "kind"} from the latest offer
    decoded         mid -> [(monotonic time, counter or None)] for video
    audio_frames    mid -> audio frames received
    errors          exceptions from receiving or negotiating
    plis_sent       keyframe requests sent (with keyframe_requests=True)

    keyframe_requests=True makes it ask for a keyframe (RTCP PLI) every second on a
    video m-section that has decoded nothing for a second, as browsers do; aiortc
    on its own never asks, so by default it shows whether the server gets a new
    subscriber its first keyframe by itself.
    """

    def __init__(self, client, keyframe_requests=False):
        self.client = client
        self.keyframe_requests = keyframe_requests
        self.plis_sent = 0
        self._ssrc_of_mid = {}
        self.pc = None
        self.offers = []
        self.track_of_mid = {}
        self.decoded = {}
        self.audio_frames = {}
        self.errors = []
        self._tasks = []
        self._lock = asyncio.Lock()
        client.on("room.offer", self._on_offer)
        client.on("trickle", self._on_trickle)

    def _on_offer(self, params):
        self._tasks.append(asyncio.ensure_future(self._answer(params)))

    async def _answer(self, params):
        from aiortc import RTCPeerConnection, RTCSessionDescription
        async with self._lock:
            rec = dict(params, answered=None)
            self.offers.append(rec)
            try:
                if self.pc is None:
                    patch_aioice()
                    self.pc = RTCPeerConnection()
                    self.pc.on("track", self._on_track)
                await asyncio.wait_for(self.pc.setRemoteDescription(
                    RTCSessionDescription(sdp=params["sdp"], type="offer")), 10)
                answer = await asyncio.wait_for(self.pc.createAnswer(), 10)
                await asyncio.wait_for(self.pc.setLocalDescription(answer), 10)
                for t in params.get("tracks") or []:
                    self.track_of_mid[t.get("mid")] = t
                self._ssrc_of_mid.update(_first_ssrc_by_mid(params["sdp"]))
                if self.keyframe_requests and not any(
                        getattr(t, "_keyframe_loop", False) for t in self._tasks):
                    loop_task = asyncio.ensure_future(self._keyframe_loop())
                    loop_task._keyframe_loop = True
                    self._tasks.append(loop_task)
                await self.client.call("room.answer", {"sdp": self.pc.localDescription.sdp,
                                                       "version": params.get("version")})
                rec["answered"] = True
            except Exception as e:  # noqa: BLE001
                rec["answered"] = f"{type(e).__name__}: {e}"
                self.errors.append(f"room.offer v{params.get('version')}: {e!r}")

    async def _on_trickle(self, params):
        if params.get("pc") != "subscriber" or not params.get("candidate") or self.pc is None:
            return
        from aiortc.sdp import candidate_from_sdp
        try:
            cand = candidate_from_sdp(params["candidate"].split(":", 1)[1])
            cand.sdpMid = params.get("sdpMid")
            cand.sdpMLineIndex = params.get("sdpMLineIndex")
            if cand.sdpMid is None and cand.sdpMLineIndex is None:
                cand.sdpMLineIndex = 0
            await self.pc.addIceCandidate(cand)
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"trickle: {e!r}")

    def _on_track(self, track):
        mid = None
        for t in self.pc.getTransceivers():
            if t.receiver.track is track:
                mid = t.mid
        self._tasks.append(asyncio.ensure_future(self._consume(track, mid)))

    async def _consume(self, track, mid):
        from aiortc.mediastreams import MediaStreamError
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.decoded.setdefault(mid, []).append((time.monotonic(), decode_counter(frame)))
                else:
                    self.audio_frames[mid] = self.audio_frames.get(mid, 0) + 1
        except MediaStreamError:
            pass
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            self.errors.append(f"mid {mid}: {e!r}")

    async def _keyframe_loop(self):
        while True:
            await asyncio.sleep(1.0)
            if self.pc is None or self.pc.connectionState != "connected":
                continue
            now = time.monotonic()
            for t in self.pc.getTransceivers():
                ssrc = self._ssrc_of_mid.get(t.mid)
                if t.kind != "video" or ssrc is None or not (self.track_of_mid.get(t.mid) or {}).get("track"):
                    continue
                frames = self.decoded.get(t.mid) or []
                if not frames or now - frames[-1][0] > 1.0:
                    try:
                        await t.receiver._send_rtcp_pli(ssrc)
                        self.plis_sent += 1
                    except Exception as e:  # noqa: BLE001
                        self.errors.append(f"PLI: {e!r}")

    def mids_of(self, track_id):
        return [m for m, t in self.track_of_mid.items() if t.get("track") == track_id]

    def frames_of(self, track_id, since=0.0):
        """[(time, counter or None)] decoded on the m-sections carrying track_id."""
        out = []
        for m in self.mids_of(track_id):
            out += [x for x in self.decoded.get(m, []) if x[0] >= since]
        return sorted(out, key=lambda x: x[0])

    def audio_of(self, track_id):
        return sum(self.audio_frames.get(m, 0) for m in self.mids_of(track_id))

    async def wait_frames(self, track_id, n, timeout, since=0.0):
        deadline = time.monotonic() + timeout
        while len(self.frames_of(track_id, since)) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return len(self.frames_of(track_id, since))

    async def close(self):
        for t in self._tasks:
            t.cancel()
        if self.pc is not None:
            try:
                await asyncio.wait_for(self.pc.close(), 10)
            except Exception as e:  # noqa: BLE001
                self.errors.append(f"close: {e!r}")
        for t in self._tasks:
            try:
                await asyncio.wait_for(t, 2)
            except BaseException:  # noqa: BLE001
                pass


def _first_ssrc_by_mid(sdp):
    """mid -> the first a=ssrc of its m-section (the media SSRC, before RTX)."""
    out, mid, ssrc = {}, None, None
    for line in sdp.splitlines() + ["m="]:
        if line.startswith("m="):
            if mid is not None and ssrc is not None:
                out[mid] = ssrc
            mid = ssrc = None
        elif line.startswith("a=mid:"):
            mid = line[6:].strip()
        elif line.startswith("a=ssrc:") and ssrc is None:
            ssrc = int(line[7:].split(" ")[0])
    return out


def counter_check(frames, sent):
    """(frames, valid, in_sent, increasing_pairs, pairs) for [(time, counter)]."""
    valid = [c for _, c in frames if c is not None]
    in_sent = sum(1 for c in valid if c in sent)
    pairs = list(zip(valid, valid[1:]))
    inc = sum(1 for a, b in pairs if b > a)
    return len(frames), len(valid), in_sent, inc, len(pairs)


# --------------------------------------------------------------------------
# small helpers


def sdp_without(sdp, *prefixes):
    """SDP text with every line starting with one of prefixes removed."""
    lines = sdp.replace("\r\n", "\n").split("\n")
    keep = [l for l in lines if not any(l.startswith(p) for p in prefixes)]
    return "\r\n".join(keep)


def extmap_clashes(sdp):
    """(id, [uris]) pairs where one extmap id maps to different URIs across the
    SDP (invalid under BUNDLE)."""
    ids = {}
    for line in sdp.splitlines():
        if line.startswith("a=extmap:"):
            head, _, rest = line[len("a=extmap:"):].partition(" ")
            i = head.split("/")[0]
            uri = rest.split(" ")[0].strip()
            ids.setdefault(i, set()).add(uri)
    return [(i, sorted(u)) for i, u in ids.items() if len(u) > 1]


def stream_summary(stats):
    """Compact text of echo.stats inbound/outbound streams."""
    out = []
    for d in ("inbound", "outbound"):
        for s in stats.get(d) or []:
            out.append(f"{d} {s.get('kind')} ssrc={s.get('ssrc')} packets={s.get('packets')} "
                       f"frames={s.get('frames')} rtt_ms={s.get('rtt_ms')}")
    return "\n".join(out)


def packets(stats, direction, kind):
    return sum((s.get("packets") or 0) for s in (stats.get(direction) or [])
               if s.get("kind") == kind)
