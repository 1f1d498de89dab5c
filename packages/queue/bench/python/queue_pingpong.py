"""Round trip between two threads over two queue.Queue: ping -> pong -> back.

usage: queue_pingpong.py N -> prints {"p50_us": ..., "p99_us": ...}
"""
import json
import queue
import sys
import threading
import time

n = int(sys.argv[1])
there, back = queue.Queue(), queue.Queue()


def pong():
    for _ in range(n):
        back.put(there.get())


t = threading.Thread(target=pong)
t.start()
samples = []
for i in range(n):
    t0 = time.perf_counter()
    there.put({"id": i, "name": "rose", "ts": 1.5})
    back.get()
    samples.append((time.perf_counter() - t0) * 1e6)
t.join()
samples.sort()
print(json.dumps({"p50_us": samples[len(samples) // 2], "p99_us": samples[int(len(samples) * 0.99)]}))
