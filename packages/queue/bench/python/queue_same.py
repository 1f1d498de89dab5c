"""put + get of one small item in one thread, repeated.

usage: queue_same.py N -> prints {"ops_per_sec": ...} (put+get pairs per second)
"""
import json
import queue
import sys
import time

n = int(sys.argv[1])
q = queue.Queue()
start = time.perf_counter()
for i in range(n):
    q.put({"id": i, "name": "rose", "ts": 1.5})
    q.get()
elapsed = time.perf_counter() - start
print(json.dumps({"ops_per_sec": n / elapsed}))
