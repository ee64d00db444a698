// amatad's two priorities. With --priority-boost the loop runs some nice levels ahead of the
// services it starts, so a storm of restarted services cannot starve the loop that restarts
// them. Everything else runs at the *background* nice, the one amatad was started with: the
// services, hooks and checks it starts, and its own threads whose work can wait (the event
// store's writer, log rotation). A woken writer thread at the loop's priority would take the
// CPU from the loop at every record it is handed.
#pragma once

#include <sys/types.h>

#include <optional>

namespace amata::base {

/// From now on children and background threads run at `nice` (nullopt: at their creator's,
/// the default, and what tests restore).
void set_background_nice(std::optional<int> nice);
std::optional<int> background_nice();

/// Puts the calling thread at the background nice (Linux's nice is per thread). Lowering
/// needs no privilege; nothing happens without a background nice.
void move_this_thread_to_background();

/// Puts `pid`'s main thread at the background nice: for a child that has only that thread,
/// right after its exec. False when that failed (the process is gone).
bool move_to_background(pid_t pid);

}  // namespace amata::base
