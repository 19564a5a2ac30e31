// Long kernels run on a worker thread while the calling (Python) thread waits without the GIL,
// waking every 50 ms to check for signals and report progress. Ctrl-C sets the kernel's stop
// flag; the kernel winds down within one block and KeyboardInterrupt is raised, so no call
// hangs and no half-written result is returned.
#pragma once
#include <pybind11/pybind11.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "core/progress.hpp"

namespace assay::bindings {

namespace py = pybind11;

// Runs fn(progress) and returns when it has finished. callback (None or a callable) receives the
// progress count now and then, and once at the end. Call with the GIL held. Small jobs (work
// below kInlineWork units) without a callback run on this thread: no worker thread to start.
constexpr double kInlineWork = 2e6;

template <class Fn>
void run_interruptible(const py::object& callback, double work, Fn&& fn) {
  core::Progress progress;
  if (work < kInlineWork && callback.is_none()) {
    py::gil_scoped_release release;
    fn(&progress);
    return;
  }
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      fn(&progress);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(m);
    finished = true;
    cv.notify_all();
  });
  bool interrupted = false;
  std::exception_ptr callback_error;
  for (;;) {
    bool done;
    {
      py::gil_scoped_release release;
      std::unique_lock<std::mutex> lock(m);
      done = cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return finished; });
    }
    if (done) break;
    if (interrupted || callback_error) continue;  // waiting for the kernel to wind down
    if (PyErr_CheckSignals() != 0) {            // KeyboardInterrupt (or another handler's error) is now set
      interrupted = true;
      progress.stop = true;
      continue;
    }
    if (!callback.is_none()) {
      try {
        callback(progress.done.load());
      } catch (...) {
        callback_error = std::current_exception();
        progress.stop = true;
      }
    }
  }
  {
    py::gil_scoped_release release;
    worker.join();
  }
  if (interrupted) throw py::error_already_set();
  if (callback_error) std::rethrow_exception(callback_error);
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const core::Cancelled&) {
      throw std::runtime_error("the computation was cancelled");
    }
  }
  if (!callback.is_none()) callback(progress.done.load());
}

}  // namespace assay::bindings
