// The native half of @conc/shared-memory: what JavaScript cannot do by itself.
//
// - map a file MAP_SHARED and hand it to JavaScript as SharedArrayBuffers
//   (N-API cannot make a SharedArrayBuffer in Node 20, hence V8's API);
// - create an unnamed file in /dev/shm (O_TMPFILE) and give it a name only
//   once it is fully initialised (linkat), and flock() it;
// - wait and wake on a 32-bit word with a futex *without* FUTEX_PRIVATE_FLAG,
//   so that a waker in another process reaches the waiter (V8's Atomics.wait and
//   Atomics.notify keep their own in-process wait lists and never meet these);
// - wait without blocking the event loop: each pending async wait is parked by
//   a thread of a small per-thread pool (never the libuv pool), in futex_waitv
//   on two words: the shared one, and a private one that a cancel wakes.
//
// Everything else (layout, users, liveness, validation) is TypeScript.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <node.h>
#include <uv.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_32
#define FUTEX_32 2  // futex2 size flag; older kernel headers lack it
#endif
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

using namespace v8;

namespace {

// Results, as the TypeScript side maps them: 'ok', 'not-equal', 'timed-out', cancelled.
enum Result : int { kPending = -1, kOk = 0, kNotEqual = 1, kTimedOut = 2, kCancelled = 3 };

struct WaitVector {  // struct futex_waitv, spelled out for older headers
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

long Futex(void* addr, int op, int val, const timespec* ts, uint32_t val3 = 0) {
  return syscall(SYS_futex, addr, op, val, ts, nullptr, val3);
}

timespec DeadlineAfter(double ms) {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  double ns = static_cast<double>(t.tv_nsec) + ms * 1e6;
  double sec = static_cast<double>(t.tv_sec) + static_cast<double>(static_cast<int64_t>(ns / 1e9));
  t.tv_sec = static_cast<time_t>(sec);
  t.tv_nsec = static_cast<long>(ns - static_cast<double>(static_cast<int64_t>(ns / 1e9)) * 1e9);
  return t;
}

bool Before(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

int32_t Load(const int32_t* addr) { return __atomic_load_n(addr, __ATOMIC_SEQ_CST); }

void Throw(Isolate* iso, int err, const char* syscall_name) {
  iso->ThrowException(node::ErrnoException(iso, err, syscall_name));
}

void ThrowType(Isolate* iso, const char* message) {
  iso->ThrowException(Exception::TypeError(String::NewFromUtf8(iso, message).ToLocalChecked()));
}

int ArgInt(const FunctionCallbackInfo<Value>& a, int i) {
  return a[i]->Int32Value(a.GetIsolate()->GetCurrentContext()).FromMaybe(-1);
}

double ArgNumber(const FunctionCallbackInfo<Value>& a, int i) {
  return a[i]->NumberValue(a.GetIsolate()->GetCurrentContext()).FromMaybe(-1);
}

// The 32-bit word at `byteOffset` of the SharedArrayBuffer in a[0], or nullptr (and a TypeError).
int32_t* WordOf(const FunctionCallbackInfo<Value>& a, std::shared_ptr<BackingStore>* keep = nullptr) {
  Isolate* iso = a.GetIsolate();
  if (!a[0]->IsSharedArrayBuffer()) {
    ThrowType(iso, "expected a SharedArrayBuffer");
    return nullptr;
  }
  Local<SharedArrayBuffer> sab = a[0].As<SharedArrayBuffer>();
  double offset = ArgNumber(a, 1);
  if (!(offset >= 0) || offset + 4 > static_cast<double>(sab->ByteLength()) ||
      static_cast<uint64_t>(offset) % 4 != 0) {
    ThrowType(iso, "the word is outside the buffer or not 4-byte aligned");
    return nullptr;
  }
  char* base;
  if (keep != nullptr) {
    *keep = sab->GetBackingStore();
    base = static_cast<char*>((*keep)->Data());
  } else {
    base = static_cast<char*>(sab->Data());
  }
  return reinterpret_cast<int32_t*>(base + static_cast<size_t>(offset));
}

// ---------------------------------------------------------------- files

// One mmap shared by the SharedArrayBuffers made over it; unmapped with the last of them.
struct Mapping {
  void* addr;
  size_t length;
  std::atomic<int> refs;
};

void ReleaseMapping(void*, size_t, void* data) {
  auto* m = static_cast<Mapping*>(data);
  if (m->refs.fetch_sub(1) == 1) {
    munmap(m->addr, m->length);
    delete m;
  }
}

// map(fd, length, split) → [SharedArrayBuffer over [0, split), SharedArrayBuffer over [split, length)]
void MapFile(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int fd = ArgInt(a, 0);
  double length = ArgNumber(a, 1), split = ArgNumber(a, 2);
  if (!(split > 0) || !(length > split)) return ThrowType(iso, "map: bad length or split");
  void* addr = mmap(nullptr, static_cast<size_t>(length), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return Throw(iso, errno, "mmap");
  auto* m = new Mapping{addr, static_cast<size_t>(length), {2}};
  char* base = static_cast<char*>(addr);
  size_t head = static_cast<size_t>(split);
  auto header = SharedArrayBuffer::NewBackingStore(base, head, ReleaseMapping, m);
  auto data = SharedArrayBuffer::NewBackingStore(base + head, m->length - head, ReleaseMapping, m);
  Local<Value> parts[2] = {SharedArrayBuffer::New(iso, std::move(header)),
                           SharedArrayBuffer::New(iso, std::move(data))};
  a.GetReturnValue().Set(Array::New(iso, parts, 2));
}

// openUnnamed(dir) → fd of a new file with no name yet, mode 0600.
void OpenUnnamed(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  String::Utf8Value dir(iso, a[0]);
  int fd = open(*dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return Throw(iso, errno, "open");
  a.GetReturnValue().Set(fd);
}

// giveName(fd, path): links the unnamed file at `path`; EEXIST when the name is taken.
void GiveName(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  String::Utf8Value path(iso, a[1]);
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", ArgInt(a, 0));
  if (linkat(AT_FDCWD, self, AT_FDCWD, *path, AT_SYMLINK_FOLLOW) != 0) Throw(iso, errno, "linkat");
}

// lock(fd, exclusive, timeoutMs) → true once held, false if still busy at the deadline.
// A flock is released by the kernel when its holder dies, so a SIGKILL never leaves it held;
// polling (not a blocking flock) bounds the wait behind a stopped holder.
void LockFile(const FunctionCallbackInfo<Value>& a) {
  int fd = ArgInt(a, 0);
  int op = (a[1]->IsTrue() ? LOCK_EX : LOCK_SH) | LOCK_NB;
  double timeout = ArgNumber(a, 2);
  timespec deadline = DeadlineAfter(timeout), now, pause = {0, 200000};
  for (;;) {
    if (flock(fd, op) == 0) return a.GetReturnValue().Set(true);
    if (errno != EWOULDBLOCK && errno != EINTR) return Throw(a.GetIsolate(), errno, "flock");
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!Before(now, deadline)) return a.GetReturnValue().Set(false);
    nanosleep(&pause, nullptr);
  }
}

void UnlockFile(const FunctionCallbackInfo<Value>& a) { flock(ArgInt(a, 0), LOCK_UN); }

// ---------------------------------------------------------------- futex, blocking

// wait(sab, byteOffset, expected, timeoutMs) → Result. One call never waits past the timeout;
// the TypeScript caller cuts long waits into slices so a terminated worker gets out.
void Wait(const FunctionCallbackInfo<Value>& a) {
  int32_t* word = WordOf(a);
  if (word == nullptr) return;
  int32_t expected = ArgInt(a, 2);
  double timeout = ArgNumber(a, 3);
  timespec deadline = DeadlineAfter(timeout < 0 ? 0 : timeout);
  bool first = true;
  for (;;) {
    long r = Futex(word, FUTEX_WAIT_BITSET, expected, timeout < 0 ? nullptr : &deadline,
                   FUTEX_BITSET_MATCH_ANY);
    int e = r == 0 ? 0 : errno;
    if (e == EINTR) {
      first = false;
      continue;
    }
    // A changed word seen after an interruption means a wake-up came meanwhile.
    int result = e == 0 ? kOk : e == EAGAIN ? (first ? kNotEqual : kOk) : e == ETIMEDOUT ? kTimedOut : -e;
    if (result < 0) return Throw(a.GetIsolate(), e, "futex");
    return a.GetReturnValue().Set(result);
  }
}

// wake(sab, byteOffset, count) → how many waiters, in any process, were woken.
void Wake(const FunctionCallbackInfo<Value>& a) {
  int32_t* word = WordOf(a);
  if (word == nullptr) return;
  int count = ArgInt(a, 2);
  long r = Futex(word, FUTEX_WAKE, count < 0 ? INT32_MAX : count, nullptr);
  if (r < 0) return Throw(a.GetIsolate(), errno, "futex");
  a.GetReturnValue().Set(static_cast<int32_t>(r));
}

// ---------------------------------------------------------------- futex, async

struct Job {
  double id;
  std::shared_ptr<BackingStore> memory;  // keeps the mapping alive while the thread waits on it
  int32_t* word;
  int32_t expected;
  bool timed;
  timespec deadline;
  bool ref;
  int32_t cancel = 0;  // private futex word: a cancel stores 1 and wakes it
  int result = kPending;
};

// What one JavaScript thread (Node environment) owns: its pool, its queue, its uv_async_t.
struct Env {
  Isolate* iso;
  Global<Context> context;
  Global<Function> dispatch;
  uv_async_t async;
  std::mutex mu;
  std::condition_variable work, gone;
  std::deque<Job*> queue, done;
  std::unordered_map<double, Job*> jobs;
  int threads = 0, idle = 0, refs = 0;
  bool closing = false;
  node::AsyncCleanupHookHandle hook;
  void (*cleanup_done)(void*) = nullptr;
  void* cleanup_arg = nullptr;
};

int Park(Job* job) {
  // The shared word goes last: when a wake-up and a cancel race, the kernel reports the
  // highest woken index, so a real wake-up is never hidden behind the cancel.
  WaitVector v[2] = {
      {0, reinterpret_cast<uint64_t>(&job->cancel), FUTEX_32 | FUTEX_PRIVATE_FLAG, 0},
      {static_cast<uint32_t>(job->expected), reinterpret_cast<uint64_t>(job->word), FUTEX_32, 0},
  };
  for (;;) {
    long r = syscall(SYS_futex_waitv, v, 2, 0, job->timed ? &job->deadline : nullptr, CLOCK_MONOTONIC);
    if (r == 1) return kOk;
    int e = r == 0 ? 0 : errno;
    if (e == EINTR) continue;
    if (e == ETIMEDOUT) return kTimedOut;
    if (e == ENOSYS) break;
    // Cancelled, or the word changed before this thread could park (a wake-up it missed).
    return Load(job->word) != job->expected ? kOk : kCancelled;
  }
  // Kernels before 5.16 have no futex_waitv: wait on the shared word in short slices.
  for (;;) {
    if (__atomic_load_n(&job->cancel, __ATOMIC_SEQ_CST) != 0) return kCancelled;
    timespec slice = DeadlineAfter(20);
    bool last = job->timed && Before(job->deadline, slice);
    long r = Futex(job->word, FUTEX_WAIT_BITSET, job->expected, last ? &job->deadline : &slice,
                   FUTEX_BITSET_MATCH_ANY);
    int e = r == 0 ? 0 : errno;
    if (e == 0 || e == EAGAIN) return kOk;
    if (e == ETIMEDOUT && last) return kTimedOut;
  }
}

void PoolThread(Env* env) {
  std::unique_lock<std::mutex> lock(env->mu);
  for (;;) {
    while (env->queue.empty() && !env->closing) {
      env->idle++;
      // An idle thread that sees no work for a while leaves; a burst of waits leaves no crowd.
      bool woke = env->work.wait_for(lock, std::chrono::seconds(5), [env] {
        return !env->queue.empty() || env->closing;
      });
      env->idle--;
      if (!woke) break;
    }
    if (env->queue.empty()) break;
    Job* job = env->queue.front();
    env->queue.pop_front();
    lock.unlock();
    int result = Park(job);
    lock.lock();
    job->result = result;
    env->done.push_back(job);
    uv_async_send(&env->async);
  }
  if (--env->threads == 0) env->gone.notify_all();
}

bool StartThread(Env* env) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);  // a parked thread needs next to no stack
  pthread_t thread;
  int err = pthread_create(
      &thread, &attr,
      [](void* arg) -> void* {
        PoolThread(static_cast<Env*>(arg));
        return nullptr;
      },
      env);
  pthread_attr_destroy(&attr);
  return err == 0;
}

void SetRef(Env* env, int delta) {
  int before = env->refs;
  env->refs += delta;
  if (before == 0 && env->refs > 0) uv_ref(reinterpret_cast<uv_handle_t*>(&env->async));
  if (before > 0 && env->refs == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&env->async));
}

// Runs on the JavaScript thread: hands each finished wait to the dispatcher(id, result).
void Deliver(uv_async_t* handle) {
  Env* env = static_cast<Env*>(handle->data);
  std::deque<Job*> done;
  {
    std::lock_guard<std::mutex> lock(env->mu);
    done.swap(env->done);
    for (Job* job : done) env->jobs.erase(job->id);
  }
  if (done.empty()) return;
  Isolate* iso = env->iso;
  HandleScope scope(iso);
  Local<Context> context = env->context.Get(iso);
  Context::Scope context_scope(context);
  Local<Function> dispatch = env->dispatch.Get(iso);
  node::CallbackScope callback_scope(iso, Object::New(iso), {0, 0});
  for (Job* job : done) {
    if (job->ref) SetRef(env, -1);
    Local<Value> argv[2] = {Number::New(iso, job->id), Integer::New(iso, job->result)};
    if (!dispatch.IsEmpty()) {
      MaybeLocal<Value> ignored = dispatch->Call(context, Undefined(iso), 2, argv);
      (void)ignored;  // a throwing dispatcher is reported by the callback scope
    }
    delete job;
  }
}

// waitAsync(sab, byteOffset, expected, timeoutMs, id, ref) → Result now, or kPending and a
// later dispatch(id, result).
void WaitAsync(const FunctionCallbackInfo<Value>& a) {
  Env* env = static_cast<Env*>(a.Data().As<External>()->Value());
  std::shared_ptr<BackingStore> memory;
  int32_t* word = WordOf(a, &memory);
  if (word == nullptr) return;
  int32_t expected = ArgInt(a, 2);
  double timeout = ArgNumber(a, 3);
  if (Load(word) != expected) return a.GetReturnValue().Set(kNotEqual);
  if (timeout == 0) return a.GetReturnValue().Set(kTimedOut);
  auto* job = new Job{ArgNumber(a, 4), std::move(memory), word, expected, timeout > 0, {}, a[5]->IsTrue()};
  if (job->timed) job->deadline = DeadlineAfter(timeout);
  if (job->ref) SetRef(env, 1);
  bool spawn;
  {
    std::lock_guard<std::mutex> lock(env->mu);
    env->jobs[job->id] = job;
    env->queue.push_back(job);
    spawn = env->idle < static_cast<int>(env->queue.size());
    if (spawn) env->threads++;
  }
  if (spawn && !StartThread(env)) {
    std::lock_guard<std::mutex> lock(env->mu);
    env->threads--;  // out of threads: the ones running take the job in turn
  }
  env->work.notify_one();
  a.GetReturnValue().Set(kPending);
}

void CancelLocked(Job* job) {
  __atomic_store_n(&job->cancel, 1, __ATOMIC_SEQ_CST);
  Futex(&job->cancel, FUTEX_WAKE_PRIVATE, 1, nullptr);
}

// cancel(id): the wait ends soon with kCancelled (or kOk, had a wake-up already reached it).
void Cancel(const FunctionCallbackInfo<Value>& a) {
  Env* env = static_cast<Env*>(a.Data().As<External>()->Value());
  std::lock_guard<std::mutex> lock(env->mu);
  auto it = env->jobs.find(ArgNumber(a, 0));
  if (it != env->jobs.end()) CancelLocked(it->second);
}

void SetDispatcher(const FunctionCallbackInfo<Value>& a) {
  Env* env = static_cast<Env*>(a.Data().As<External>()->Value());
  if (!a[0]->IsFunction()) return ThrowType(a.GetIsolate(), "setDispatcher: expected a function");
  env->dispatch.Reset(a.GetIsolate(), a[0].As<Function>());
}

// The thread's environment is going away (worker exit): cancel every wait, let the pool
// drain, then close the handle; node waits for `done` before it closes the loop.
void Cleanup(void* arg, void (*done)(void*), void* done_arg) {
  Env* env = static_cast<Env*>(arg);
  {
    std::unique_lock<std::mutex> lock(env->mu);
    env->closing = true;
    for (auto& entry : env->jobs) CancelLocked(entry.second);
    env->work.notify_all();
    env->gone.wait(lock, [env] { return env->threads == 0; });
    for (auto& entry : env->jobs) delete entry.second;
    env->jobs.clear();
    env->done.clear();
  }
  env->cleanup_done = done;
  env->cleanup_arg = done_arg;
  uv_close(reinterpret_cast<uv_handle_t*>(&env->async), [](uv_handle_t* handle) {
    Env* env = static_cast<Env*>(handle->data);
    auto finish = env->cleanup_done;
    void* finish_arg = env->cleanup_arg;
    node::RemoveEnvironmentCleanupHook(std::move(env->hook));
    delete env;
    finish(finish_arg);
  });
}

void Export(Local<Object> exports, Local<Context> context, const char* name, FunctionCallback fn,
            Local<Value> data) {
  Isolate* iso = context->GetIsolate();
  Local<Function> f = FunctionTemplate::New(iso, fn, data)->GetFunction(context).ToLocalChecked();
  exports->Set(context, String::NewFromUtf8(iso, name).ToLocalChecked(), f).Check();
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  Isolate* iso = context->GetIsolate();
  auto* env = new Env();
  env->iso = iso;
  env->context.Reset(iso, context);
  uv_async_init(node::GetCurrentEventLoop(iso), &env->async, Deliver);
  env->async.data = env;
  uv_unref(reinterpret_cast<uv_handle_t*>(&env->async));  // idle: keeps nothing alive
  env->hook = node::AddEnvironmentCleanupHook(iso, Cleanup, env);
  Local<Value> data = External::New(iso, env);
  Export(exports, context, "map", MapFile, data);
  Export(exports, context, "openUnnamed", OpenUnnamed, data);
  Export(exports, context, "giveName", GiveName, data);
  Export(exports, context, "lock", LockFile, data);
  Export(exports, context, "unlock", UnlockFile, data);
  Export(exports, context, "wait", Wait, data);
  Export(exports, context, "wake", Wake, data);
  Export(exports, context, "waitAsync", WaitAsync, data);
  Export(exports, context, "cancel", Cancel, data);
  Export(exports, context, "setDispatcher", SetDispatcher, data);
}
