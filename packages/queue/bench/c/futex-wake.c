/*
 * The machine's floor under a sleeping receiver: how long one thread takes to
 * wake another that sleeps in the kernel (a bare Linux futex, no Node, no V8).
 * Not run by `pnpm bench` (it needs a C compiler); the queue README quotes it.
 *
 *   gcc -O2 -pthread packages/queue/bench/c/futex-wake.c -o /tmp/futex-wake
 *   /tmp/futex-wake 1 200   # sender spins for the answer, 200 µs between round trips
 *   /tmp/futex-wake 0 0     # both sides sleep: two wake-ups per round trip
 *
 * Prints p10/p50/p90 of 3000 round trips, in µs.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define N 3000

static _Atomic int ping, pong;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void sleep_while(_Atomic int *word, int value) {
  syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void wake(_Atomic int *word) {
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *ponger(void *unused) {
  (void)unused;
  for (int i = 1; i <= N; i++) {
    while (atomic_load(&ping) != i) sleep_while(&ping, i - 1);
    atomic_store(&pong, i);
    wake(&pong);
  }
  return NULL;
}

static int by_value(const void *a, const void *b) {
  double d = *(const double *)a - *(const double *)b;
  return d < 0 ? -1 : d > 0;
}

int main(int argc, char **argv) {
  int sender_spins = argc > 1 ? atoi(argv[1]) : 1;
  double gap_us = argc > 2 ? atof(argv[2]) : 200;
  static double rtt[N];
  pthread_t t;
  pthread_create(&t, NULL, ponger, NULL);
  for (int i = 1; i <= N; i++) {
    /* Stay awake (busy) for gap_us, long enough for the ponger to fall asleep. */
    for (double until = now_us() + gap_us; now_us() < until;) {
    }
    double t0 = now_us();
    atomic_store(&ping, i);
    wake(&ping);
    if (sender_spins)
      while (atomic_load(&pong) != i) {
      }
    else
      while (atomic_load(&pong) != i) sleep_while(&pong, i - 1);
    rtt[i - 1] = now_us() - t0;
  }
  pthread_join(t, NULL);
  qsort(rtt, N, sizeof rtt[0], by_value);
  printf("sender %s, gap %.0f us: p10 %.1f p50 %.1f p90 %.1f us\n", sender_spins ? "spins" : "sleeps", gap_us,
         rtt[N / 10], rtt[N / 2], rtt[N * 9 / 10]);
  return 0;
}
