// amatad's two priorities. With --priority-boost the loop runs some nice levels ahead of the
// services it starts, so a storm of restarted services cannot starve the loop that restarts
// them. Everything else runs at the *background* nice, the one amatad was started with: the
// services, hooks and checks it starts, and its own threads whose work can wait (the event
// store's writer, log rotation). A woken writer thread at the loop's priority would take the
// CPU from the loop at every record it is handed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>

namespace amata::base {

/// From now on children and background threads run at `nice` (nullopt: at their creator's,
/// the default, and what tests restore).
void set_background_nice(std::optional<int> nice);
std::optional<int> background_nice();

/// Gives the calling thread a scheduling slice of its own (Linux 6.12 and later: EEVDF's
/// custom slice, `sched_attr.sched_runtime` of a fair task), keeping its policy and nice; zero
/// asks for the kernel's default. A task woken with a shorter slice than the one running is
/// weighed against it at its wake-up, not only at the running task's next tick (10 ms at
/// HZ=100); its threads and children inherit it. False where the kernel has no custom slices, or
/// for a thread that is not a fair task (a real-time one, say).
bool set_this_thread_slice(std::chrono::nanoseconds slice);
/// The calling thread's slice, or thread `tid`'s, as the kernel reports it (nullopt: no custom
/// slices here).
std::optional<std::chrono::nanoseconds> this_thread_slice();
std::optional<std::chrono::nanoseconds> slice_of(pid_t tid);

/// From now on what moves to the background also gets the kernel's default slice back
/// (amatad's loop runs with a short one: `set_this_thread_slice`).
void set_background_resets_slice(bool reset);

/// Puts the calling thread at the background nice (Linux's nice is per thread), and at the
/// default slice when asked. Lowering needs no privilege; nothing happens without a background
/// nice.
void move_this_thread_to_background();

/// Puts `pid`'s main thread at the background nice (and slice): for a child that has only
/// that thread, right after its exec. False when that failed (the process is gone).
bool move_to_background(pid_t pid);

}  // namespace amata::base
