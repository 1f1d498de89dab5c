"""Wake-up round trip between two threads, N times: with a Condition (notify ->
wait returns -> notify back) or with two Events (set -> wait returns -> set back).

usage: wake_roundtrip.py condition|event N -> prints {"p50_us": ..., "p99_us": ...}
"""
import json
import sys
import threading
import time

kind = sys.argv[1]
n = int(sys.argv[2])
samples = []

if kind == "condition":
    cond = threading.Condition(threading.Lock())
    state = {"turn": 0}

    def pong():
        with cond:
            for _ in range(n):
                cond.wait_for(lambda: state["turn"] == 1)
                state["turn"] = 0
                cond.notify()

    t = threading.Thread(target=pong)
    t.start()
    with cond:
        for _ in range(n):
            t0 = time.perf_counter()
            state["turn"] = 1
            cond.notify()
            cond.wait_for(lambda: state["turn"] == 0)
            samples.append((time.perf_counter() - t0) * 1e6)
    t.join()
else:
    ping, pong_ev = threading.Event(), threading.Event()

    def pong():
        for _ in range(n):
            ping.wait()
            ping.clear()
            pong_ev.set()

    t = threading.Thread(target=pong)
    t.start()
    for _ in range(n):
        t0 = time.perf_counter()
        ping.set()
        pong_ev.wait()
        pong_ev.clear()
        samples.append((time.perf_counter() - t0) * 1e6)
    t.join()

samples = samples[n // 10:]
samples.sort()
print(json.dumps({"p50_us": samples[len(samples) // 2], "p99_us": samples[int(len(samples) * 0.99)]}))
