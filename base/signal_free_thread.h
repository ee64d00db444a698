// A thread that never takes a signal: amatad takes its signals on the loop's signalfd, which
// works only while every thread has them blocked; a thread that let SIGUSR2 or SIGHUP through
// would die of it, and amatad with it. The mask is set before the thread exists (a thread
// inherits its creator's), so there is no moment when a signal could reach it.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <thread>
#include <utility>

namespace amata::base {

/// Starts `body` on a new std::thread with every signal blocked.
template <typename Body>
std::thread start_signal_free_thread(Body&& body) {
  sigset_t all, before;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &before);
  std::thread thread(std::forward<Body>(body));
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return thread;
}

}  // namespace amata::base
