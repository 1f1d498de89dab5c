/*
 * The floor under a cross-process round trip where both sides sleep: two processes
 * (fork) share one page (MAP_SHARED), and each round the pinger stores i, wakes the
 * ponger, and sleeps until the ponger has stored i back and woken it. Futexes without
 * FUTEX_PRIVATE_FLAG, as @conc/shared-memory uses them: two bare wake-ups per round trip.
 * futex.bench.mjs compiles and runs it when a C compiler is there.
 *
 *   cc -O2 futex-pingpong.c -o /tmp/futex-pingpong && /tmp/futex-pingpong 3000 200
 *
 * argv: rounds, microseconds the pinger stays busy before each round (so the ponger is
 * asleep). Prints one JSON line: {"p50_us":..,"p99_us":..}.
 */
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void sleep_while(_Atomic int *word, int value) {
  syscall(SYS_futex, word, FUTEX_WAIT, value, NULL, NULL, 0);
}

static void wake(_Atomic int *word) { syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0); }

static int by_value(const void *a, const void *b) {
  double d = *(const double *)a - *(const double *)b;
  return d < 0 ? -1 : d > 0;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 3000;
  double gap_us = argc > 2 ? atof(argv[2]) : 200;
  _Atomic int *words = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  _Atomic int *ping = &words[0], *pong = &words[16];
  double *rtt = malloc(sizeof(double) * n);
  pid_t child = fork();
  if (child == 0) {
    for (int i = 1; i <= n; i++) {
      while (atomic_load(ping) != i) sleep_while(ping, i - 1);
      atomic_store(pong, i);
      wake(pong);
    }
    _exit(0);
  }
  for (int i = 1; i <= n; i++) {
    for (double until = now_us() + gap_us; now_us() < until;) {
    }
    double t0 = now_us();
    atomic_store(ping, i);
    wake(ping);
    while (atomic_load(pong) != i) sleep_while(pong, i - 1);
    rtt[i - 1] = now_us() - t0;
  }
  waitpid(child, NULL, 0);
  int skip = n / 10; /* warm-up */
  qsort(rtt + skip, n - skip, sizeof rtt[0], by_value);
  int m = n - skip;
  printf("{\"p50_us\":%.2f,\"p99_us\":%.2f}\n", rtt[skip + m / 2], rtt[skip + m * 99 / 100]);
  return 0;
}
