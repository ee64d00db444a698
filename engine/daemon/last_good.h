// The last policy that loaded, kept in the state directory so that amatad can start when its
// policy file no longer compiles. Without it, a broken edit (rejected by a reload, so harmless
// while amatad runs) turns the next restart of amatad — a crash, the watchdog, a reboot —
// into a node whose services nobody supervises.
//
// The kept copy is STATE/last-good/ with each source at its absolute path below it
// (/etc/amata/policy.amata -> STATE/last-good/etc/amata/policy.amata), so relative includes
// resolve among the kept files. An include by absolute path reads the live file.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/result.h"
#include "compiler/lower/policy_loader.h"

namespace amata::daemon {

/// Replaces the kept copy with `loaded`'s sources (the texts it was compiled from). A policy
/// without sources (itself loaded from the kept copy) leaves the copy as it is.
Status keep_last_good(const std::string& state_dir, const lower::LoadedPolicy& loaded);

/// The kept copy of the policy file `policy_path`, when there is one.
std::optional<std::string> last_good_copy(const std::string& state_dir,
                                          const std::string& policy_path);

/// Keeps policies on a thread of its own, never on the loop: the copy is written and synced,
/// and a stalled disk must not hold up recovery. The newest policy handed over wins; one not
/// yet written when a newer one comes is never written. A failure is a warning in the log.
class PolicyKeeper {
 public:
  explicit PolicyKeeper(std::string state_dir);
  /// Writes what is pending, then ends the thread.
  ~PolicyKeeper();
  PolicyKeeper(const PolicyKeeper&) = delete;
  PolicyKeeper& operator=(const PolicyKeeper&) = delete;

  /// Keeps `loaded` (its sources; the rest is not copied) as the last policy that loaded.
  void keep(const lower::LoadedPolicy& loaded);

 private:
  void run();

  std::string state_dir_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<lower::LoadedPolicy> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace amata::daemon
