"""One producer thread -> one consumer thread through queue.Queue(maxsize).

usage: queue_xfer.py N MAXSIZE [WARM] -> prints {"ops_per_sec": ...} on its last line

With WARM, an untimed round of WARM items goes through the same queue first,
as the Node side does (Python has no JIT to warm, so it changes little).
"""
import json
import queue
import sys
import threading
import time

n = int(sys.argv[1])
maxsize = int(sys.argv[2])
warm = int(sys.argv[3]) if len(sys.argv) > 3 else 0
q = queue.Queue(maxsize=maxsize)


def produce(count):
    for i in range(count):
        q.put({"id": i, "name": "rose", "ts": 1.5})


def consume(count, out):
    total = 0
    for _ in range(count):
        total += q.get()["id"]
    out.append(total)


def run(count):
    out = []
    start = time.perf_counter()
    threads = [
        threading.Thread(target=produce, args=(count,)),
        threading.Thread(target=consume, args=(count, out)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    assert out[0] == count * (count - 1) // 2
    return elapsed


if warm:
    run(warm)
print(json.dumps({"ops_per_sec": n / run(n)}))
