"""multiprocessing.Lock between processes: acquire + release pairs.

usage: mp_lock.py uncontended N   -> one process, N pairs
       mp_lock.py contended2 N    -> 2 forked processes, N/2 pairs each on one lock,
                                     timed in each child from a common start (the slower one counts)
prints {"ops_per_sec": ...}
"""
import json
import multiprocessing as mp
import sys
import time


def worker(lock, go, count, out):
    acquire, release = lock.acquire, lock.release
    go.wait()
    start = time.perf_counter()
    for _ in range(count):
        acquire()
        release()
    out.put(time.perf_counter() - start)


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    ctx = mp.get_context("fork")
    lock = ctx.Lock()
    if mode == "uncontended":
        acquire, release = lock.acquire, lock.release
        start = time.perf_counter()
        for _ in range(n):
            acquire()
            release()
        print(json.dumps({"ops_per_sec": n / (time.perf_counter() - start)}))
        return
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(lock, go, n // 2, out)) for _ in range(2)]
    for p in procs:
        p.start()
    time.sleep(0.2)
    go.set()
    elapsed = max(out.get(), out.get())
    for p in procs:
        p.join()
    print(json.dumps({"ops_per_sec": (n // 2) * 2 / elapsed}))


if __name__ == "__main__":
    main()
