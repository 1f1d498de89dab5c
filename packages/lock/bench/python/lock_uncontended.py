"""threading.Lock acquire + release in one thread, repeated.

usage: lock_uncontended.py N -> prints {"ops_per_sec": ...} (acquire+release pairs per second)
"""
import json
import sys
import threading
import time

n = int(sys.argv[1])


def run(count):
    # Inside a function, with the bound methods in locals: Python's fastest form.
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    for _ in range(count):
        acquire()
        release()


start = time.perf_counter()
run(n)
elapsed = time.perf_counter() - start
print(json.dumps({"ops_per_sec": n / elapsed}))
