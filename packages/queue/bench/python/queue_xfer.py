"""One producer thread -> one consumer thread through queue.Queue(maxsize).

usage: queue_xfer.py N MAXSIZE  -> prints {"ops_per_sec": ...} on its last line
"""
import json
import queue
import sys
import threading
import time

n = int(sys.argv[1])
maxsize = int(sys.argv[2])
q = queue.Queue(maxsize=maxsize)


def produce():
    for i in range(n):
        q.put({"id": i, "name": "rose", "ts": 1.5})


def consume(out):
    total = 0
    for _ in range(n):
        total += q.get()["id"]
    out.append(total)


out = []
start = time.perf_counter()
threads = [threading.Thread(target=produce), threading.Thread(target=consume, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.perf_counter() - start
assert out[0] == n * (n - 1) // 2
print(json.dumps({"ops_per_sec": n / elapsed}))
