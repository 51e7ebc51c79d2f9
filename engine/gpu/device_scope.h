// Which GPU is current while kiln works, and which device the memory and streams it is given live on.
//
// Note [device discipline]
// CUDA's current device is per thread and belongs to the caller: a program that drives several GPUs
// from one thread sets it as it goes. Every kiln call that touches the GPU (loading an engine, making,
// preparing, running, capturing with or destroying a context, replaying or destroying a capture,
// destroying an engine) makes its engine's device current for the call and gives the caller's back on
// return, also when the call throws. A context runs only on its engine's device: a stream handed to it
// and the device pointers run_device takes must be that device's (checked; the error names both
// devices). Switching costs nothing when the device is already current (cudaGetDevice only).
//
// A thread that has not used CUDA yet has no current device of its own (CUDA reports 0, but no context
// is bound): giving "0" back would create device 0's primary context, hundreds of MiB on a GPU the
// process may never use. Such a thread is left on the engine's device, as it would be after its own
// first cudaSetDevice.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

namespace kiln::gpu {

// For scopes in destructors: a failure to switch is logged, never thrown.
struct NoThrow {};
constexpr NoThrow kNoThrow{};

// Makes `device` current for the scope; the destructor makes the previous device current again (a
// failure then is logged by the Api). `Api` provides the calls (tests pass a fake):
//   static int current();    // the thread's current device, -1 when it has none yet; throws on failure
//   static void make_current(int device);          // throws on failure, naming the device
//   static bool try_current(int& device) noexcept;       // logs and returns false on failure
//   static bool try_make_current(int device) noexcept;  // logs and returns false on failure
// The noexcept calls never take part in fault injection (base/fault_injection.h): a destructor's
// failure could not surface as an error.
template <class Api>
class BasicDeviceScope {
 public:
  explicit BasicDeviceScope(int device) : previous_(Api::current()) {
    if (previous_ != device) {
      Api::make_current(device);
      switched_ = true;
    }
  }
  // The same that never throws: when the current device cannot be read or set, it stays as it is.
  BasicDeviceScope(int device, NoThrow) noexcept {
    int current = -1;
    if (!Api::try_current(current)) return;  // unknown: leave the device as it is
    previous_ = current;
    if (previous_ != device) switched_ = Api::try_make_current(device);
  }
  ~BasicDeviceScope() {
    if (switched_ && previous_ >= 0) Api::try_make_current(previous_);
  }
  BasicDeviceScope(const BasicDeviceScope&) = delete;
  BasicDeviceScope& operator=(const BasicDeviceScope&) = delete;

  // The device that was current before the scope (-1: none yet, or it could not be read).
  int previous() const { return previous_; }

 private:
  int previous_ = -1;
  bool switched_ = false;
};

struct CudaDeviceApi {
  static int current();
  static void make_current(int device);
  static bool try_current(int& device) noexcept;
  static bool try_make_current(int device) noexcept;
};

using DeviceScope = BasicDeviceScope<CudaDeviceApi>;

// Empty when `pointer` is memory a kernel on `device` can use (device memory of `device`, pinned host,
// mapped or managed memory), else what is wrong with it: "is memory of gpu 1; this engine runs on gpu 0",
// or "is host memory CUDA does not know ..." (a plain malloc). Callers name the pointer only on failure,
// so a run that passes builds no string.
std::string device_pointer_problem(const void* pointer, int device);

// Throws UsageError when `stream` (null: nothing to check) belongs to another device than `device`.
void check_stream_device(cudaStream_t stream, int device);

}  // namespace kiln::gpu
