"""Two threads hammering one threading.Lock: acquire + release, N pairs in all.

usage: lock_contended.py N -> prints {"ops_per_sec": ...} (pairs per second, both threads together)
"""
import json
import sys
import threading
import time

n = int(sys.argv[1])
lock = threading.Lock()
go = threading.Event()


def worker(count):
    acquire, release = lock.acquire, lock.release
    go.wait()
    for _ in range(count):
        acquire()
        release()


threads = [threading.Thread(target=worker, args=(n // 2,)) for _ in range(2)]
for t in threads:
    t.start()
start = time.perf_counter()
go.set()
for t in threads:
    t.join()
elapsed = time.perf_counter() - start
print(json.dumps({"ops_per_sec": (n // 2) * 2 / elapsed}))
