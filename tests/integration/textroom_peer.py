"""An aiortc text room participant, driven over stdin/stdout JSON lines by a test
(tests/integration/test_textroom.mjs). Not a test by itself.

Usage: /usr/bin/python3 -u textroom_peer.py WS_URL NAME

It opens a session, makes a data-only PeerConnection (one channel "chat",
protocol "textroom"), textroom.connect, and waits for the channel to open. Then:

  stdin (one JSON object per line)              stdout (one JSON object per line)
  {"cmd":"send","data":"<text>"}  send as is    {"type":"ready","session":...}
  {"cmd":"rpc","tag":t,"method":m,"params":p}   {"type":"dc","data":"<text received>"}
  {"cmd":"close"}  hang up, close, exit         {"type":"rpc","tag":t,"response":{...}}
  (stdin closed: the same)                      {"type":"notify","method":m,"params":p}
                                                {"type":"dc_close"} {"type":"error","error":...}
                                                {"type":"bye"}

Every wait is bounded; the whole run is limited to 150 s.
"""

import asyncio
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sbtest import RpcClient, patch_aioice  # noqa: E402


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def commands():
    """Lines of stdin, as an async iterator."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        line = line.strip()
        if line:
            yield json.loads(line)


async def main(url, name):
    patch_aioice()
    from aiortc import RTCPeerConnection, RTCSessionDescription
    client = await RpcClient.connect(url)
    client.on("peer.state", lambda p: out({"type": "notify", "method": "peer.state", "params": p}))
    pc = RTCPeerConnection()
    try:
        ch = pc.createDataChannel("chat", protocol="textroom")
        opened = asyncio.Event()
        ch.on("open", opened.set)
        ch.on("close", lambda: out({"type": "dc_close"}))
        ch.on("message", lambda m: out({"type": "dc", "data": m if isinstance(m, str) else m.decode()}))
        await asyncio.wait_for(pc.setLocalDescription(await pc.createOffer()), 10)
        answer = await client.call("textroom.connect", {"sdp": pc.localDescription.sdp}, timeout=15)
        await asyncio.wait_for(pc.setRemoteDescription(
            RTCSessionDescription(sdp=answer["sdp"], type="answer")), 10)
        await asyncio.wait_for(opened.wait(), 15)
        out({"type": "ready", "session": client.session, "name": name})
        async for cmd in commands():
            if cmd["cmd"] == "send":
                ch.send(cmd["data"])
            elif cmd["cmd"] == "rpc":
                resp = await client.request(cmd["method"], cmd.get("params"), timeout=10)
                out({"type": "rpc", "tag": cmd.get("tag"), "response": resp})
            elif cmd["cmd"] == "close":
                break
        if not client.closed:
            await client.request("textroom.hangup", timeout=10)
    finally:
        await asyncio.wait_for(pc.close(), 10)
        await client.close()
    out({"type": "bye"})


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[2]), 150))
    except Exception as e:  # noqa: BLE001 - reported to the test, which decides
        out({"type": "error", "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()})
        sys.exit(1)
