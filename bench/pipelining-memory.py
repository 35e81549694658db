#!/usr/bin/env python3
"""Clients that pipeline requests and never read the answers, against a service binary.

  bench/pipelining-memory.py <binary> [connections=32] [seconds=10] [path=/nowhere]

Starts the binary on a free port and its admin port on the next one (PORT=, METRICS_PORT=,
LOG_LEVEL=info, its log to /dev/null; a 404 and /healthz answer without its dependencies). Each
connection asks for a 4 kB receive buffer and sends `GET <path>` to the service's port back to
back for `seconds` without reading; meanwhile a new connection asks the admin port for /healthz
every 50 ms (the kubelet's view of a flooded service). Prints the service's peak resident memory (VmHWM), its CPU time and the
/healthz times; SHOW=1 also lists the probes over 20 ms with when they started. The probes share
this process with the flood, so on a loaded machine the slowest can be this script's own delay:
compare with curl from another process.
"""
import os
import random
import selectors
import socket
import subprocess
import sys
import threading
import time

binary = sys.argv[1]
connections = int(sys.argv[2]) if len(sys.argv) > 2 else 32
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10
path = sys.argv[4] if len(sys.argv) > 4 else "/nowhere"
port = int(os.environ.get("PORT") or random.randint(20000, 29999))
metrics_port = port + 1
service = subprocess.Popen([binary], env={"PORT": str(port), "METRICS_PORT": str(metrics_port), "LOG_LEVEL": "info"},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
pid = service.pid


def status_kb(field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def healthz_ms():
    start = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", metrics_port), timeout=5) as probe:
            probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = probe.recv(4096)
                if not chunk:
                    break
                answer += chunk
        ok = answer.startswith(b"HTTP/1.1 200")
    except OSError:
        ok = False
    return (time.monotonic() - start) * 1000, ok


probes = []
stop = threading.Event()


def probe_loop():
    while not stop.is_set():
        probes.append((*healthz_ms(), time.monotonic()))
        time.sleep(0.05)


for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
time.sleep(0.5)
hwm_before = status_kb("VmHWM")
request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 64
selector = selectors.DefaultSelector()
for _ in range(connections):
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect(("127.0.0.1", port))
    client.setblocking(False)
    selector.register(client, selectors.EVENT_WRITE)

prober = threading.Thread(target=probe_loop)
prober.start()
sent = 0
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    for key, _ in selector.select(timeout=0.1):
        try:
            sent += key.fileobj.send(request)
        except BlockingIOError:
            pass
        except OSError:
            selector.unregister(key.fileobj)
stop.set()
prober.join()
hwm, rss = status_kb("VmHWM"), status_kb("VmRSS")
with open(f"/proc/{pid}/stat") as stat:
    fields = stat.read().rsplit(")", 1)[1].split()
cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
for key in list(selector.get_map().values()):
    key.fileobj.close()
service.terminate()
service.wait()
times = sorted(ms for ms, *_ in probes) or [-1]
slowest, median = times[-1], times[len(times) // 2]
failed = sum(1 for _, ok, _ in probes if not ok)
if os.environ.get("SHOW"):
    print([(round(ms), round(at - probes[0][2], 2)) for ms, _, at in probes if ms > 20])
print(f"{os.path.basename(binary)} connections={connections} seconds={seconds:g} path={path} sent={sent / 1e6:.1f}MB "
      f"VmHWM_before={hwm_before / 1024:.1f}MB VmHWM={hwm / 1024:.1f}MB VmRSS={rss / 1024:.1f}MB "
      f"cpu={cpu:.1f}s healthz_probes={len(probes)} healthz_failed={failed} healthz_median={median:.1f}ms "
      f"healthz_slowest={slowest:.1f}ms")
