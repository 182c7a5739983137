#!/usr/bin/env python3
"""Peak RSS of the aggregator under a ping flood and of `recorder serve` under download attacks (issue 14),
printed as JSON lines. Not a test: figures for docs/security.md, run by hand against any build (also an
older one, to compare). Loopback only; every loop bounded in count and time; needs nats-server on PATH.

usage: bench/attacks/measure_peak_rss.py BUILD_DIR SOURCE_DIR
       (BUILD_DIR holds aggregator/aggregator and recorder/recorder; SOURCE_DIR holds examples/)
"""
import json, os, re, signal, socket, subprocess, sys, tempfile, time

build, source = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix='ovalstream-attacks-')


def free_port():
    s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close(); return port


def status(pid):
    out = {}
    for line in open(f'/proc/{pid}/status'):
        key, _, value = line.partition(':')
        if key in ('VmRSS', 'VmHWM', 'Threads'):
            out[key] = int(value.split()[0])
    return out


def wait_log(path, pattern, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = open(path).read() if os.path.exists(path) else ''
        m = re.search(pattern, text)
        if m: return m
        time.sleep(0.1)
    raise RuntimeError(f'{pattern} not in {path}: {text[-2000:]}')


nats_port = free_port()
nats = subprocess.Popen(['nats-server', '-a', '127.0.0.1', '-p', str(nats_port), '-js', '-sd', f'{work}/js'],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1)
url = f'nats://127.0.0.1:{nats_port}'
procs = [nats]
try:
    # ---- aggregator, ping flood: one websocket that never reads, 8M empty pings or 10 s ----
    log = f'{work}/aggregator.log'
    agg = subprocess.Popen([f'{build}/aggregator/aggregator', '--nats-url', url, '--create-stream',
                            '--hub-address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0'],
                           stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    procs.append(agg)
    m = wait_log(log, r'"msg":"serving websockets"[^\n]*"address":"127\.0\.0\.1:(\d+)"')
    hub = int(m.group(1))
    time.sleep(0.5)
    before = status(agg.pid)
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096); s.connect(('127.0.0.1', hub))
    s.sendall(b'GET /v1/competitions HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
              b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
    s.recv(4096)
    ping = bytes([0x89, 0x80, 1, 2, 3, 4])
    block = ping * 10000
    s.setblocking(False)
    sent, deadline = 0, time.time() + 10
    while sent < 8_000_000 * 6 and time.time() < deadline:
        try:
            sent += s.send(block)
        except BlockingIOError:
            time.sleep(0.001)
    after = status(agg.pid)
    s.close(); time.sleep(1)
    closed = status(agg.pid)
    print(json.dumps({'attack': 'ping flood', 'pings_sent': sent // 6, 'rss_before_kib': before['VmRSS'],
                      'peak_rss_kib': after['VmHWM'], 'rss_after_close_kib': closed['VmRSS']}))
    agg.send_signal(signal.SIGKILL); agg.wait()

    # ---- recorder serve, downloads: 8 idle downloaders of a 100 MB recording, then one at 2 MB/s ----
    rec_dir = f'{work}/recordings'
    os.makedirs(f'{rec_dir}/2026-02-14')
    example = open(f'{source}/examples/competition.jsonl', 'rb').read()
    with open(f'{rec_dir}/2026-02-14/big.jsonl', 'wb') as f:
        written = 0
        while written < 100_000_000:
            f.write(example); written += len(example)
    size = os.path.getsize(f'{rec_dir}/2026-02-14/big.jsonl')
    log = f'{work}/recorder.log'
    rec = subprocess.Popen([f'{build}/recorder/recorder', 'serve', '--nats-url', url, '--create-stream', '--dir', rec_dir,
                            '--address', '127.0.0.1:0', '--metrics-address', '127.0.0.1:0'],
                           stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    procs.append(rec)
    m = wait_log(log, r'"msg":"serving the recordings API"[^\n]*"address":"127\.0\.0\.1:(\d+)"')
    api = int(m.group(1))
    wait_log(log, r'recording every competition')
    time.sleep(0.5)
    before = status(rec.pid)
    idle = []
    for _ in range(8):
        c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096); c.connect(('127.0.0.1', api))
        c.sendall(b'GET /v1/recordings/2026-02-14/big.jsonl HTTP/1.1\r\nHost: x\r\n\r\n')
        idle.append(c)
    time.sleep(3)
    idle_peak = status(rec.pid)
    statuses = []
    for c in idle:
        c.settimeout(1)
        try: statuses.append(c.recv(64).split(b' ')[1].decode())
        except Exception: statuses.append('none')
        c.close()
    time.sleep(1)
    # One honest download at 2 MB/s, for at most 60 s.
    c = socket.socket(); c.connect(('127.0.0.1', api))
    c.sendall(b'GET /v1/recordings/2026-02-14/big.jsonl HTTP/1.1\r\nHost: x\r\n\r\n')
    got, start = 0, time.time()
    c.settimeout(2)
    while time.time() - start < 60:
        allowed = (time.time() - start) * 2_000_000
        if got > allowed:
            time.sleep(0.005); continue
        try:
            chunk = c.recv(65536)
        except socket.timeout:
            break
        if not chunk: break
        got += len(chunk)
    elapsed = time.time() - start
    after = status(rec.pid)
    print(json.dumps({'attack': '8 idle downloads of 100 MB', 'rss_before_kib': before['VmRSS'],
                      'peak_rss_kib_after_idle': idle_peak['VmHWM'], 'first_bytes_statuses': statuses}))
    print(json.dumps({'attack': 'download of 100 MB at 2 MB/s', 'file_bytes': size, 'received_bytes': got,
                      'seconds': round(elapsed, 1), 'complete': got > size, 'peak_rss_kib': after['VmHWM']}))
finally:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL); p.wait()
    subprocess.run(['rm', '-rf', work])
