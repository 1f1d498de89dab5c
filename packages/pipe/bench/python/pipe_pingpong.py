"""multiprocessing.Pipe round trip: send a message to a child process that sends it back.

    python3 pipe_pingpong.py <n>

Prints {"p50_us": ..., "p99_us": ...} on its last line.
"""
import json
import sys
import time
from multiprocessing import Pipe, Process


def echo(conn):
    while True:
        m = conn.recv()
        if m is None:
            break
        conn.send(m)


def main():
    n = int(sys.argv[1])
    here, there = Pipe()
    child = Process(target=echo, args=(there,))
    child.start()
    for i in range(min(1000, n)):
        here.send({"id": i, "name": "rose", "ts": 1.5})
        here.recv()
    lat = []
    for i in range(n):
        t = time.perf_counter_ns()
        here.send({"id": i, "name": "rose", "ts": 1.5})
        here.recv()
        lat.append(time.perf_counter_ns() - t)
    here.send(None)
    child.join()
    lat.sort()
    print(json.dumps({"p50_us": lat[len(lat) // 2] / 1000, "p99_us": lat[int(len(lat) * 0.99)] / 1000}))


if __name__ == "__main__":
    main()
