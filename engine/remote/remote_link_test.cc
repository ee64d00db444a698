// The remote-node link end to end on loopback: a real listener and a real attacher, each on
// its own thread, real TLS with certificates made for the test (good, a stranger's, expired,
// misnamed), and raw clients that misbehave on purpose.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "engine/remote/remote_attacher.h"
#include "engine/remote/remote_listener.h"
#include "engine/remote/socket_address.h"
#include "engine/remote/test_pki.h"

namespace amata::remote {
namespace {

using namespace std::chrono_literals;

bool contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& line : lines) {
    if (line.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

/// A ring member's listener with everything it reported recorded; it welcomes and
/// acknowledges by itself unless a test says otherwise.
struct Ring {
  std::unique_ptr<RemoteListener> listener;
  std::vector<HelloRequest> hellos;
  std::vector<RemoteEvent> events;
  std::vector<ServiceReport> reports;
  std::vector<std::string> gone;  // "node: why"
  /// For each node gone, how long before on_gone came its last heartbeat (or its hello).
  std::map<std::string, base::Clock::duration> silence;
  std::vector<std::string> logs;
  bool welcome = true;
  std::uint64_t acked = 0;  // what the welcome says the ring holds
  bool ack = true;
};

/// A remote node's attacher and what it reported.
struct Remote {
  std::unique_ptr<RemoteAttacher> attacher;
  std::vector<std::string> attached;
  std::vector<std::string> detached;
  std::vector<std::string> logs;
  std::vector<std::set<std::string>> places;
  std::vector<std::uint64_t> place_numbers;
  std::vector<base::Clock::time_point> leases;
  bool lease_in_future = true;  // every lease was later than the moment it arrived
};

class RemoteLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/amata-remote-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    pki_ = std::make_unique<TestPki>(dir_);
    auto loop = base::EventLoop::create();
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(*loop);
  }
  void TearDown() override {
    remotes_.clear();
    rings_.clear();
    std::filesystem::remove_all(dir_);
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      (void)loop_->run_once(10ms);
    }
    return true;
  }
  void run_for(std::chrono::milliseconds span) {
    const auto until = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < until) (void)loop_->run_once(10ms);
  }

  Ring& start_ring(const std::string& name, const TlsFiles& files,
                   const std::function<void(ListenerOptions&)>& tweak = {}) {
    auto ring = std::make_unique<Ring>();
    Ring* r = ring.get();
    ListenerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.tls = files;
    options.name = name;
    if (tweak) tweak(options);
    ListenerCallbacks callbacks{
        [this, r](const HelloRequest& hello) {
          r->hellos.push_back(hello);
          if (r->welcome) r->listener->welcome(hello.link, r->acked);
        },
        [r](LinkId link, const std::string&, RemoteEvent event) {
          if (r->ack) r->listener->ack(link, event.seq);
          r->events.push_back(std::move(event));
        },
        [r](LinkId, const std::string& node, const std::string& why,
            base::Clock::time_point last_heartbeat) {
          r->gone.push_back(node + ": " + why);
          r->silence[node] = base::Clock::now() - last_heartbeat;
        },
        [r](bool, const std::string& message) { r->logs.push_back(message); },
        [r](LinkId, const std::string&, ServiceReport report) {
          r->reports.push_back(std::move(report));
        },
    };
    auto listener = RemoteListener::start(*loop_, options, callbacks);
    EXPECT_TRUE(listener.ok()) << (listener.ok() ? "" : listener.error().message);
    r->listener = std::move(*listener);
    rings_.push_back(std::move(ring));
    return *r;
  }
  Ring& start_ring(const std::string& name) { return start_ring(name, pki_->issue(name)); }

  Remote& start_remote(const TlsFiles& files, std::vector<AttachTarget> targets,
                       std::size_t max_buffered = 10000) {
    auto remote = std::make_unique<Remote>();
    Remote* r = remote.get();
    AttacherOptions options;
    options.targets = std::move(targets);
    options.tls = files;
    options.max_buffered = max_buffered;
    options.retry = 50ms;
    AttacherCallbacks callbacks{
        [r](const std::string& member) { r->attached.push_back(member); },
        [r](const std::string& member, const std::string& why) {
          r->detached.push_back(member + ": " + why);
        },
        [r](bool, const std::string& message) { r->logs.push_back(message); },
        [r](const std::string&, std::set<std::string> run, std::uint64_t n) {
          r->places.push_back(std::move(run));
          r->place_numbers.push_back(n);
        },
        [r](base::Clock::time_point valid_until) {
          r->lease_in_future = r->lease_in_future && valid_until > base::Clock::now();
          r->leases.push_back(valid_until);
        },
    };
    auto attacher = RemoteAttacher::start(*loop_, options, callbacks);
    EXPECT_TRUE(attacher.ok()) << (attacher.ok() ? "" : attacher.error().message);
    r->attacher = std::move(*attacher);
    remotes_.push_back(std::move(remote));
    return *r;
  }

  static AttachTarget target(const Ring& ring, const std::string& name) {
    return {name, "127.0.0.1", ring.listener->port()};
  }

  std::filesystem::path dir_;
  std::unique_ptr<TestPki> pki_;
  std::unique_ptr<base::EventLoop> loop_;
  // Destroyed before the loop: their callbacks post to it.
  std::vector<std::unique_ptr<Ring>> rings_;
  std::vector<std::unique_ptr<Remote>> remotes_;
};

TEST_F(RemoteLinkTest, AttachesByCertificateStreamsEventsInOrderAndMeasuresTheHeartbeat) {
  Ring& n1 = start_ring("n1");
  Remote& c1 = start_remote(pki_->issue("c1"), {target(n1, "n1")});
  ASSERT_TRUE(run_until([&] { return !c1.attached.empty(); })) << joined(c1.logs);
  ASSERT_EQ(n1.hellos.size(), 1U);
  EXPECT_EQ(n1.hellos[0].node, "c1") << "the name comes from the certificate";
  EXPECT_EQ(n1.hellos[0].hello.dropped, 0U);
  EXPECT_EQ(c1.attached, std::vector<std::string>{"n1"});

  for (int i = 1; i <= 200; ++i) c1.attacher->publish({{"event", "E"}, {"i", i}});
  ASSERT_TRUE(run_until([&] { return n1.events.size() == 200; }));
  for (std::size_t i = 0; i < n1.events.size(); ++i) {
    EXPECT_EQ(n1.events[i].seq, i + 1);
    EXPECT_EQ(n1.events[i].body["i"], i + 1);
  }
  ASSERT_TRUE(run_until([&] {
    const auto s = c1.attacher->status();
    return s.acked == 200 && s.buffered == 0;
  }));
  // The ring member sees the link, and the round trip the remote node measured.
  ASSERT_TRUE(run_until([&] {
    const auto links = n1.listener->links();
    return links.size() == 1 && links[0].rtt.has_value();
  }));
  const auto link = n1.listener->links()[0];
  EXPECT_EQ(link.node, "c1");
  EXPECT_EQ(link.events, 200U);
  EXPECT_EQ(link.epoch, n1.hellos[0].hello.epoch);
  EXPECT_LT(*link.rtt, 1s);
  EXPECT_EQ(c1.attacher->status().attached_to, "n1");
  EXPECT_TRUE(c1.detached.empty());
}

TEST_F(RemoteLinkTest, RefusesACertificateFromAnotherCaAndSaysWhy) {
  Ring& n1 = start_ring("n1");
  Remote& stranger = start_remote(pki_->issue_by_stranger("c1"), {target(n1, "n1")});
  ASSERT_TRUE(run_until([&] { return n1.listener->counters().refused >= 2; }));
  EXPECT_TRUE(n1.hellos.empty());
  EXPECT_TRUE(contains(n1.logs, "remote nodes: refused 127.0.0.1:")) << joined(n1.logs);
  EXPECT_TRUE(contains(n1.logs, "certificate")) << joined(n1.logs);
  EXPECT_FALSE(stranger.attacher->status().attached_to);
  EXPECT_FALSE(stranger.attacher->status().last_error.empty());
}

TEST_F(RemoteLinkTest, RefusesAnExpiredCertificate) {
  Ring& n1 = start_ring("n1");
  Remote& expired = start_remote(pki_->issue("c1", {-7200, -3600}), {target(n1, "n1")});
  ASSERT_TRUE(run_until([&] { return contains(n1.logs, "certificate has expired"); }))
      << joined(n1.logs);
  EXPECT_TRUE(n1.hellos.empty());
  EXPECT_FALSE(expired.attacher->status().attached_to);
}

TEST_F(RemoteLinkTest, TheRemoteNodeRefusesARingMemberWithAnotherName) {
  Ring& impostor = start_ring("n2");
  Remote& c1 = start_remote(pki_->issue("c1"), {target(impostor, "n1")});
  ASSERT_TRUE(run_until([&] {
    return c1.attacher->status().last_error.find("its certificate is for 'n2', not 'n1'") !=
           std::string::npos;
  })) << c1.attacher->status().last_error;
  EXPECT_TRUE(impostor.hellos.empty()) << "no hello, so no event, reaches the impostor";
  EXPECT_TRUE(contains(c1.logs, "remote: cannot attach to n1")) << joined(c1.logs);
}

TEST_F(RemoteLinkTest, ACertificateThatNamesNoNodeIsRefused) {
  Ring& n1 = start_ring("n1");
  start_remote(pki_->issue("a name far too long for a node"), {target(n1, "n1")});
  ASSERT_TRUE(run_until([&] { return contains(n1.logs, "its certificate names no node"); }))
      << joined(n1.logs);
  EXPECT_TRUE(n1.hellos.empty());
}

TEST_F(RemoteLinkTest, MovesToTheNextMemberAndSendsWhatTheRingDoesNotHoldInOrder) {
  Ring& n1 = start_ring("n1");
  Ring& n2 = start_ring("n2");
  Remote& c1 = start_remote(pki_->issue("c1"), {target(n1, "n1"), target(n2, "n2")});
  ASSERT_TRUE(run_until([&] { return !c1.attached.empty(); }));
  EXPECT_EQ(c1.attached.back(), "n1");
  n1.ack = false;  // n1 takes events 1-5 but the ring holds only 1-3 (say, n1 dies first)
  for (int i = 1; i <= 5; ++i) c1.attacher->publish({{"i", i}});
  ASSERT_TRUE(run_until([&] { return n1.events.size() == 5; }));
  for (const std::uint64_t seq : {1, 2, 3}) n1.listener->ack(n1.hellos[0].link, seq);
  ASSERT_TRUE(run_until([&] { return c1.attacher->status().acked == 3; }));

  n2.acked = 3;  // what the ring says it holds of this epoch when c1 re-attaches
  n1.listener.reset();
  ASSERT_TRUE(run_until([&] { return c1.attached.size() == 2; })) << joined(c1.logs);
  EXPECT_EQ(c1.attached.back(), "n2");
  ASSERT_EQ(c1.detached.size(), 1U);
  EXPECT_EQ(c1.detached[0].rfind("n1: ", 0), 0U) << c1.detached[0];
  ASSERT_EQ(n2.hellos.size(), 1U);
  EXPECT_EQ(n2.hellos[0].hello.epoch, c1.attacher->status().epoch) << "the same run";

  c1.attacher->publish({{"i", 6}});
  ASSERT_TRUE(run_until([&] { return n2.events.size() == 3; }));
  std::vector<std::uint64_t> seqs;
  for (const auto& e : n2.events) seqs.push_back(e.seq);
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{4, 5, 6})) << "nothing lost, nothing twice";
  EXPECT_EQ(n2.events[2].body["i"], 6);
}

TEST_F(RemoteLinkTest, AFullBufferDropsTheOldestAndTheNextHelloSaysHowMany) {
  Ring& n1 = start_ring("n1");
  n1.welcome = false;
  Remote& c1 = start_remote(pki_->issue("c1"), {target(n1, "n1")}, 10);
  for (int i = 1; i <= 15; ++i) c1.attacher->publish({{"i", i}});
  ASSERT_TRUE(run_until([&] { return c1.attacher->status().dropped == 5; }));
  EXPECT_EQ(c1.attacher->status().buffered, 10U);
  ASSERT_TRUE(run_until([&] { return !n1.hellos.empty(); }));
  n1.listener->refuse(n1.hellos.back().link, "not yet");
  ASSERT_TRUE(run_until([&] {
    return c1.attacher->status().last_error.find("refused: not yet") != std::string::npos;
  })) << c1.attacher->status().last_error;
  n1.welcome = true;
  ASSERT_TRUE(run_until([&] { return n1.events.size() == 10; })) << joined(c1.logs);
  EXPECT_EQ(n1.hellos.back().hello.dropped, 5U);
  EXPECT_EQ(n1.events.front().seq, 6U);
  EXPECT_EQ(n1.events.back().seq, 15U);
}

using Names = std::set<std::string>;

TEST_F(RemoteLinkTest, ReportsItsServicesAfterTheWelcomeAndAgainWhenTheyChange) {
  Ring& n1 = start_ring("n1");
  Remote& c1 = start_remote(pki_->issue("c1"), {target(n1, "n1")});
  ASSERT_TRUE(run_until([&] { return !c1.attached.empty(); }));
  run_for(300ms);
  EXPECT_TRUE(n1.reports.empty()) << "no report before set_services";

  c1.attacher->set_services({"db"}, {}, {"db", "web"});
  ASSERT_TRUE(run_until([&] { return n1.reports.size() == 1; }));
  EXPECT_EQ(n1.reports[0].seq, 1U);
  EXPECT_EQ(n1.reports[0].running, Names{"db"});
  EXPECT_TRUE(n1.reports[0].gave_up.empty());
  EXPECT_EQ(n1.reports[0].eligible, (Names{"db", "web"}));

  c1.attacher->set_services({"db"}, {}, {"db", "web"});  // no change: nothing to send
  c1.attacher->set_services({}, {"db"}, {"db", "web"});
  ASSERT_TRUE(run_until([&] { return n1.reports.size() == 2; }));
  EXPECT_GT(n1.reports[1].seq, n1.reports[0].seq);
  EXPECT_TRUE(n1.reports[1].running.empty());
  EXPECT_EQ(n1.reports[1].gave_up, Names{"db"});
  ASSERT_TRUE(run_until([&] {
    const auto links = n1.listener->links();
    return links.size() == 1 && links[0].report && links[0].report->seq == n1.reports[1].seq;
  }));
  EXPECT_EQ(n1.listener->links()[0].report->gave_up, Names{"db"});
  run_for(300ms);
  EXPECT_EQ(n1.reports.size(), 2U);
}

TEST_F(RemoteLinkTest, ChangesBeforeTheWelcomeAreReportedOnceTheLatestOnly) {
  Ring& n1 = start_ring("n1");
  n1.welcome = false;
  Remote& c1 = start_remote(pki_->issue("c1"), {target(n1, "n1")});
  ASSERT_TRUE(run_until([&] { return !n1.hellos.empty(); }));
  c1.attacher->set_services({"a"}, {}, {"a"});
  c1.attacher->set_services({"b"}, {"a"}, {"a", "b"});
  run_for(100ms);
  n1.listener->welcome(n1.hellos[0].link, 0);
  ASSERT_TRUE(run_until([&] { return !n1.reports.empty(); })) << joined(c1.logs);
  run_for(300ms);
  ASSERT_EQ(n1.reports.size(), 1U);
  EXPECT_EQ(n1.reports[0].seq, 1U);
  EXPECT_EQ(n1.reports[0].running, Names{"b"});
  EXPECT_EQ(n1.reports[0].gave_up, Names{"a"});
}

TEST_F(RemoteLinkTest, APlacementLeasesFromTheLastHeartbeatHeardAndOnlyPlacementsRenew) {
  Ring& n1 = start_ring("n1", pki_->issue("n1"),
                        [](ListenerOptions& o) { o.heartbeat_timeout = 800ms; });  // beats: 200 ms
  Remote& c1 = start_remote(pki_->issue("c1"), {target(n1, "n1")});
  ASSERT_TRUE(run_until([&] { return !c1.attached.empty(); }));
  run_for(600ms);
  EXPECT_TRUE(c1.leases.empty()) << "echoes renew no lease before the first placement";
  EXPECT_FALSE(c1.attacher->status().lease_until);
  EXPECT_FALSE(c1.attacher->status().placed);

  const auto before = base::Clock::now();
  const LinkId link = n1.hellos[0].link;
  ASSERT_TRUE(n1.listener->heartbeat_at(link));
  n1.listener->place(link, Placement{{"db"}, 1500, n1.listener->heartbeat_at(link), 41});
  ASSERT_TRUE(run_until([&] { return !c1.leases.empty() && !c1.places.empty(); }));
  ASSERT_EQ(c1.places.size(), 1U);
  EXPECT_EQ(c1.place_numbers[0], 41U);
  // The node says which placement it applied.
  c1.attacher->set_services({"db"}, {}, {"db"}, 41);
  ASSERT_TRUE(run_until([&] { return !n1.reports.empty(); }));
  EXPECT_EQ(n1.reports.back().placed, 41U);
  EXPECT_EQ(c1.places[0], Names{"db"});
  EXPECT_TRUE(c1.lease_in_future);
  // From the last heartbeat the member had heard (one goes out every 200 ms): before the
  // placement, so no later than now plus the lease, and not long before it.
  EXPECT_LE(c1.leases[0], base::Clock::now() + 1500ms);
  EXPECT_GT(c1.leases[0], before + 1000ms);

  // Echoes go on, but renew nothing: only the member's next placement does.
  run_for(600ms);
  EXPECT_EQ(c1.leases.size(), 1U);
  n1.listener->place(link, Placement{{"db"}, 1500, n1.listener->heartbeat_at(link)});
  ASSERT_TRUE(run_until([&] { return c1.leases.size() == 2; }));
  EXPECT_GT(c1.leases[1], c1.leases[0] + 300ms);
  const AttacherStatus status = c1.attacher->status();
  ASSERT_TRUE(status.lease_until);
  EXPECT_EQ(*status.lease_until, c1.leases.back());
  EXPECT_EQ(status.placed, Names{"db"});

  n1.listener->place(link, Placement{{}, 1500, n1.listener->heartbeat_at(link)});  // all back
  ASSERT_TRUE(run_until([&] { return c1.places.size() == 3; }));
  EXPECT_TRUE(c1.places[2].empty());
  EXPECT_EQ(c1.attacher->status().placed, Names{});

  // A placement whose lease is over when it arrives (it counts from the hello, long ago)
  // allows nothing: neither a lease nor a placement comes of it.
  const std::size_t leases = c1.leases.size();
  n1.listener->place(link, Placement{{"db"}, 100, std::nullopt});
  run_for(300ms);
  EXPECT_EQ(c1.places.size(), 3U);
  EXPECT_EQ(c1.leases.size(), leases);
  // Nor does one counted from a heartbeat this link never sent (another link's).
  n1.listener->place(link, Placement{{"db"}, 600'000, *n1.listener->heartbeat_at(link) + 60'000});
  run_for(300ms);
  EXPECT_EQ(c1.places.size(), 3U);
  EXPECT_EQ(c1.leases.size(), leases);
}

TEST_F(RemoteLinkTest, AfterAMoveTheReportIsSentAgainNewerAndOnlyAPlacementRenewsTheLease) {
  Ring& n1 = start_ring("n1");
  Ring& n2 = start_ring("n2");
  Remote& c1 = start_remote(pki_->issue("c1"), {target(n1, "n1"), target(n2, "n2")});
  c1.attacher->set_services({"db"}, {}, {"db"});
  ASSERT_TRUE(run_until([&] { return n1.reports.size() == 1; }));
  n1.listener->place(n1.hellos[0].link, Placement{{"db"}, 1500, std::nullopt});
  ASSERT_TRUE(run_until([&] { return !c1.leases.empty() && !c1.places.empty(); }));
  c1.attacher->set_services({"db"}, {}, {"db", "web"});
  ASSERT_TRUE(run_until([&] { return n1.reports.size() == 2; }));
  const std::uint64_t last_before_move = n1.reports.back().seq;

  n1.listener.reset();
  ASSERT_TRUE(run_until([&] { return c1.attached.size() == 2; })) << joined(c1.logs);
  EXPECT_EQ(c1.attached.back(), "n2");
  // Every lease from n1's echoes was posted before the attach to n2.
  const std::size_t leases_from_n1 = c1.leases.size();
  ASSERT_TRUE(run_until([&] { return n2.reports.size() == 1; }));
  EXPECT_GT(n2.reports[0].seq, last_before_move);
  EXPECT_EQ(n2.reports[0].running, Names{"db"});
  EXPECT_EQ(n2.reports[0].eligible, (Names{"db", "web"}));
  run_for(1500ms);  // three heartbeats echoed by n2, which has placed nothing yet
  EXPECT_EQ(c1.leases.size(), leases_from_n1);

  n2.listener->place(n2.hellos[0].link,
                     Placement{{"db"}, 1500, n2.listener->heartbeat_at(n2.hellos[0].link)});
  ASSERT_TRUE(
      run_until([&] { return c1.leases.size() > leases_from_n1 && c1.places.size() == 2; }));
  EXPECT_GT(c1.leases.back(), c1.leases[leases_from_n1 - 1]);
  EXPECT_EQ(c1.places.size(), 2U);
}

/// A raw end for misbehaving on purpose: plain TCP, then TLS if asked. A client, or with
/// a connection RawMember accepted, a ring member.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    auto fd = start_connect("127.0.0.1", port);
    EXPECT_TRUE(fd.ok());
    fd_ = std::move(*fd);
    pollfd p{fd_.get(), POLLOUT, 0};
    ::poll(&p, 1, 2000);
  }
  explicit RawClient(base::UniqueFd accepted) : fd_(std::move(accepted)) {}
  void send_plain(const std::string& bytes) {
    EXPECT_EQ(::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  /// The TLS handshake, turning `tick` (the test's loop) while it waits.
  bool handshake(const TlsFiles& files, const std::function<void()>& tick,
                 TlsContext::Role role = TlsContext::Role::kClient) {
    auto context = TlsContext::create(files, role);
    if (!context) return false;
    auto stream = TlsStream::create(*context, std::move(fd_));
    if (!stream) return false;
    tls_ = std::move(*stream);
    for (int i = 0; i < 500; ++i) {
      const auto io = tls_->handshake();
      if (io == TlsStream::Io::kDone) return true;
      if (io == TlsStream::Io::kFailed || io == TlsStream::Io::kClosed) return false;
      tick();
    }
    return false;
  }
  void send_tls(std::string bytes, const std::function<void()>& tick) {
    for (int i = 0; i < 500 && !bytes.empty(); ++i) {
      if (tls_->write(bytes) == TlsStream::Io::kFailed) return;
      tick();
    }
  }
  /// The next line the other end sent, without its newline ("" if none came in time).
  std::string read_line(const std::function<void()>& tick) {
    for (int i = 0; i < 500; ++i) {
      if (const auto newline = input_.find('\n'); newline != std::string::npos) {
        std::string line = input_.substr(0, newline);
        input_.erase(0, newline + 1);
        return line;
      }
      const auto io = tls_->read(input_, 1 << 20);
      if (io == TlsStream::Io::kClosed || io == TlsStream::Io::kFailed) break;
      tick();
    }
    return "";
  }
  /// Whether the other end closed the connection (reading and dropping what it sent).
  bool closed() {
    const int fd = tls_ ? tls_->fd() : fd_.get();
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (tls_) {
      std::string sink;
      const auto io = tls_->read(sink, 1 << 20);
      return io == TlsStream::Io::kClosed || io == TlsStream::Io::kFailed;
    }
    char sink[4096];
    const ssize_t n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  base::UniqueFd fd_;
  std::unique_ptr<TlsStream> tls_;
  std::string input_;  // read and not yet taken as a line
};

/// A ring member's port served by hand: it accepts remote nodes for RawClient to answer.
class RawMember {
 public:
  RawMember() {
    auto fd = listen_on("127.0.0.1", 0);
    EXPECT_TRUE(fd.ok());
    listen_ = std::move(*fd);
  }
  std::uint16_t port() const { return bound_port(listen_.get()); }
  /// The next remote node, past the TLS handshake and its hello.
  std::unique_ptr<RawClient> accept(const TlsFiles& files, const std::function<void()>& tick) {
    for (int i = 0; i < 500; ++i) {
      base::UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!fd) {
        tick();
        continue;
      }
      auto node = std::make_unique<RawClient>(std::move(fd));
      if (!node->handshake(files, tick, TlsContext::Role::kServer)) return nullptr;
      const std::string hello = node->read_line(tick);
      EXPECT_NE(hello.find(R"("t":"hello")"), std::string::npos) << hello;
      return node;
    }
    return nullptr;
  }

 private:
  base::UniqueFd listen_;
};

TEST_F(RemoteLinkTest, GarbageOversizedLinesHalfOpenAndSilentClientsNeverDisturbAGoodLink) {
  Ring& n1 = start_ring("n1", pki_->issue("n1"), [](ListenerOptions& o) {
    o.handshake_timeout = 400ms;
    o.heartbeat_timeout = 600ms;
  });
  Remote& good = start_remote(pki_->issue("c1"), {target(n1, "n1")});
  ASSERT_TRUE(run_until([&] { return !good.attached.empty(); }));
  const auto tick = [this] { (void)loop_->run_once(5ms); };

  RawClient http(n1.listener->port());  // not TLS at all
  http.send_plain("GET / HTTP/1.1\r\nHost: n1\r\n\r\n");
  RawClient half_open(n1.listener->port());  // connects, then nothing
  RawClient flooder(n1.listener->port());    // a valid node that sends a line without end
  ASSERT_TRUE(flooder.handshake(pki_->issue("c2"), tick));
  flooder.send_tls(std::string(kMaxFrameBytes + 2, 'x'), tick);
  RawClient silent(n1.listener->port());  // says hello, is welcomed, never beats
  ASSERT_TRUE(silent.handshake(pki_->issue("c3"), tick));
  silent.send_tls(encode(Hello{"ab", 0}), tick);
  RawClient liar(n1.listener->port());  // an event before any hello
  ASSERT_TRUE(liar.handshake(pki_->issue("c4"), tick));
  liar.send_tls(encode(RemoteEvent{1, {{"spoof", true}}}), tick);

  ASSERT_TRUE(run_until([&] {
    return http.closed() && half_open.closed() && flooder.closed() && silent.closed() &&
           liar.closed();
  })) << joined(n1.logs);
  const ListenerCounters counters = n1.listener->counters();
  EXPECT_GE(counters.refused, 1U);
  EXPECT_EQ(counters.timed_out, 1U);
  EXPECT_EQ(counters.silent, 1U);
  EXPECT_EQ(counters.protocol_errors, 2U);
  EXPECT_TRUE(contains(n1.gone, "c3: no heartbeat for 600 ms")) << joined(n1.gone);
  // The silent node's last sign of life (its hello) is told, not the time it was found
  // silent: the ring counts it lost from there (ClusterManager::remote_detached).
  EXPECT_GE(n1.silence["c3"], 600ms);
  EXPECT_TRUE(n1.events.empty()) << "no event from anyone but the good node";

  // The good node heartbeat through all of it, and its events still arrive.
  EXPECT_TRUE(good.detached.empty()) << joined(good.detached);
  good.attacher->publish({{"still", "here"}});
  ASSERT_TRUE(run_until([&] { return n1.events.size() == 1; }));
  EXPECT_EQ(n1.events[0].body["still"], "here");
  ASSERT_EQ(n1.listener->links().size(), 1U);
  EXPECT_EQ(n1.listener->links()[0].node, "c1");
}

TEST_F(RemoteLinkTest, AMalformedEarlyOrStaleServiceReportEndsTheLink) {
  Ring& n1 = start_ring("n1");
  const auto tick = [this] { (void)loop_->run_once(5ms); };
  const auto welcomed = [&](const std::string& node) {
    return run_until([&] {
      for (const auto& link : n1.listener->links()) {
        if (link.node == node) return true;
      }
      return false;
    });
  };
  RawClient early(n1.listener->port());  // a report before its welcome
  ASSERT_TRUE(early.handshake(pki_->issue("c2"), tick));
  early.send_tls(encode(Hello{"a2", 0}) + encode(ServiceReport{1, {}, {}, {"db"}}), tick);
  RawClient malformed(n1.listener->port());
  ASSERT_TRUE(malformed.handshake(pki_->issue("c3"), tick));
  malformed.send_tls(encode(Hello{"a3", 0}), tick);
  ASSERT_TRUE(welcomed("c3"));
  malformed.send_tls(R"({"t":"state","seq":1,"running":[""],"gave_up":[],"eligible":[]})"
                     "\n",
                     tick);
  RawClient stale(n1.listener->port());  // the same seq twice
  ASSERT_TRUE(stale.handshake(pki_->issue("c4"), tick));
  stale.send_tls(encode(Hello{"a4", 0}), tick);
  ASSERT_TRUE(welcomed("c4"));
  stale.send_tls(encode(ServiceReport{2, {}, {}, {"db"}}) + encode(ServiceReport{2, {}, {}, {}}),
                 tick);

  ASSERT_TRUE(run_until([&] {
    return early.closed() && malformed.closed() && stale.closed() && n1.gone.size() == 3;
  })) << joined(n1.gone);
  EXPECT_EQ(n1.listener->counters().protocol_errors, 3U);
  EXPECT_TRUE(contains(n1.gone, "c2: protocol error: a message out of order")) << joined(n1.gone);
  EXPECT_TRUE(contains(n1.gone, R"(c3: protocol error: "running" holds a name of 0 or over)"))
      << joined(n1.gone);
  EXPECT_TRUE(contains(n1.gone, "c4: protocol error: service report 2 after 2")) << joined(n1.gone);
  ASSERT_EQ(n1.reports.size(), 1U) << "only c4's first";
  EXPECT_EQ(n1.reports[0].eligible, Names{"db"});
}

TEST_F(RemoteLinkTest, AMalformedEarlyOrMisdirectedPlacementEndsTheLink) {
  RawMember n1;
  const TlsFiles n1_files = pki_->issue("n1");
  const auto tick = [this] { (void)loop_->run_once(5ms); };
  Remote& c1 = start_remote(pki_->issue("c1"), {{"n1", "127.0.0.1", n1.port()}});

  auto early = n1.accept(n1_files, tick);  // a placement before the welcome
  ASSERT_TRUE(early);
  early->send_tls(encode(Placement{{"db"}, 1500, std::nullopt}), tick);
  ASSERT_TRUE(run_until([&] {
    return c1.attacher->status().last_error == "n1: protocol error: a message before the welcome";
  })) << c1.attacher->status().last_error;

  auto malformed = n1.accept(n1_files, tick);
  ASSERT_TRUE(malformed);
  malformed->send_tls(encode(Welcome{"n1", 500, 2000, 0}) +
                          R"({"t":"place","run":["db"],"lease_ms":0})"
                          "\n",
                      tick);
  ASSERT_TRUE(run_until([&] { return c1.detached.size() == 1; })) << joined(c1.logs);
  EXPECT_EQ(c1.detached[0], "n1: protocol error: a zero lease");

  auto misdirected = n1.accept(n1_files, tick);  // a report, which only a remote node sends
  ASSERT_TRUE(misdirected);
  misdirected->send_tls(
      encode(Welcome{"n1", 500, 2000, 0}) + encode(ServiceReport{1, {}, {}, {"db"}}), tick);
  ASSERT_TRUE(run_until([&] { return c1.detached.size() == 2; })) << joined(c1.logs);
  EXPECT_EQ(c1.detached[1], "n1: protocol error: an unexpected message");
  EXPECT_TRUE(c1.places.empty());
  EXPECT_TRUE(c1.leases.empty());
  EXPECT_FALSE(c1.attacher->status().lease_until);
}

/// A TCP relay on loopback whose forwarding can be frozen with both connections left open:
/// to the remote node, the ring member behind it looks hung (or its link cut) rather than
/// gone.
class FreezableRelay {
 public:
  explicit FreezableRelay(std::uint16_t upstream) : upstream_(upstream) {
    auto fd = listen_on("127.0.0.1", 0);
    EXPECT_TRUE(fd.ok());
    listen_ = std::move(*fd);
    port_ = bound_port(listen_.get());
    thread_ = std::thread([this] { relay(); });
  }
  ~FreezableRelay() {
    stop_ = true;
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  void freeze() { frozen_ = true; }

 private:
  void relay() {
    base::UniqueFd down, up;
    while (!stop_) {
      std::vector<pollfd> fds{{listen_.get(), POLLIN, 0}};
      if (down && !frozen_) {
        fds.push_back({down.get(), POLLIN, 0});
        fds.push_back({up.get(), POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0 && !down) {
        down.reset(::accept4(listen_.get(), nullptr, nullptr, 0));
        auto fd = start_connect("127.0.0.1", upstream_);
        if (fd.ok()) up = std::move(*fd);
        pollfd p{up.get(), POLLOUT, 0};
        ::poll(&p, 1, 1000);
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        const int from = fds[i].fd;
        const int to = from == down.get() ? up.get() : down.get();
        char buffer[16384];
        const ssize_t n = ::recv(from, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) (void)::send(to, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
      }
    }
  }

  std::uint16_t upstream_;
  base::UniqueFd listen_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> frozen_{false};
  std::thread thread_;
};

TEST_F(RemoteLinkTest, ARingMemberThatStopsAnsweringIsLeftForTheNextBeforeTheRingTimesOut) {
  Ring& n1 =
      start_ring("n1", pki_->issue("n1"), [](ListenerOptions& o) { o.heartbeat_timeout = 1000ms; });
  Ring& n2 = start_ring("n2");
  FreezableRelay relay(n1.listener->port());
  Remote& c1 =
      start_remote(pki_->issue("c1"), {{"n1", "127.0.0.1", relay.port()}, target(n2, "n2")});
  ASSERT_TRUE(run_until([&] { return !c1.attached.empty(); }));
  EXPECT_EQ(c1.attached.back(), "n1");
  run_for(300ms);
  relay.freeze();  // n1's connection stays open, and nothing crosses it any more
  ASSERT_TRUE(run_until([&] { return c1.attached.size() == 2; })) << joined(c1.logs);
  EXPECT_EQ(c1.attached.back(), "n2");
  EXPECT_TRUE(n1.gone.empty()) << "c1 re-attached before n1 counted it gone: " << joined(n1.gone);
  ASSERT_EQ(c1.detached.size(), 1U);
  EXPECT_NE(c1.detached[0].find("n1: no answer for"), std::string::npos) << c1.detached[0];
  ASSERT_TRUE(run_until([&] { return !n1.gone.empty(); }));
  EXPECT_NE(n1.gone[0].find("no heartbeat for 1000 ms"), std::string::npos) << n1.gone[0];
}

TEST_F(RemoteLinkTest, OutOfFileDescriptorsTheListenerWaitsInsteadOfSpinning) {
  // A child process with 48 open files at most runs a listener; this process then connects
  // 80 times. Once accept() fails with EMFILE the pending connections keep the listening
  // socket readable: a listener that retried at once would spin on its thread.
  const TlsFiles files = pki_->issue("n1");
  int to_parent[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const rlimit limit{48, 48};
    ::setrlimit(RLIMIT_NOFILE, &limit);
    auto loop = base::EventLoop::create();
    ListenerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.tls = files;
    auto listener = RemoteListener::start(**loop, options, ListenerCallbacks{});
    std::uint16_t port = listener.ok() ? (*listener)->port() : 0;
    (void)!::write(to_parent[1], &port, sizeof port);
    const auto cpu = [] {
      rusage usage{};
      ::getrusage(RUSAGE_SELF, &usage);
      return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
             static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    };
    std::this_thread::sleep_for(500ms);  // the parent connects
    const double before = cpu();
    const auto until = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < until) (void)(*loop)->run_once(50ms);
    const double used = cpu() - before;
    (void)!::write(to_parent[1], &used, sizeof used);
    ::_exit(0);
  }
  ::close(to_parent[1]);
  std::uint16_t port = 0;
  ASSERT_EQ(::read(to_parent[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
  ASSERT_NE(port, 0);
  std::vector<base::UniqueFd> connections;
  for (int i = 0; i < 80; ++i) {
    auto fd = start_connect("127.0.0.1", port);
    if (fd.ok()) connections.push_back(std::move(*fd));
  }
  double used = -1;
  ASSERT_EQ(::read(to_parent[0], &used, sizeof used), static_cast<ssize_t>(sizeof used));
  ::close(to_parent[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  // Spinning takes the whole 2 s of a core; waiting takes next to nothing.
  EXPECT_LT(used, 0.5) << "the listener spun on a readable socket it could not accept from";
}

/// The shell block after the `<!-- certificates:` marker of docs/operations.md.
std::string documented_certificate_recipe() {
  std::ifstream in(AMATA_OPERATIONS_MD);
  std::string line, out;
  enum { kBefore, kMarker, kInside } where = kBefore;
  while (std::getline(in, line)) {
    if (where == kBefore && line.rfind("<!-- certificates:", 0) == 0) {
      where = kMarker;
    } else if (where == kMarker && line.rfind("```", 0) == 0) {
      where = kInside;
    } else if (where == kInside) {
      if (line.rfind("```", 0) == 0) return out;
      out += line + "\n";
    }
  }
  return "";
}

TEST_F(RemoteLinkTest, CertificatesMadeAsTheOperationsGuideShowsAttach) {
  if (::access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/openssl";
  const std::string recipe = documented_certificate_recipe();
  ASSERT_FALSE(recipe.empty()) << "no certificate recipe in " << AMATA_OPERATIONS_MD;
  const auto made = dir_ / "documented";
  std::filesystem::create_directories(made);
  std::ofstream(made / "recipe.sh") << "set -e\n" << recipe;
  const std::string command = "cd '" + made.string() + "' && bash recipe.sh >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << recipe;
  const auto files = [&made](const std::string& node) {
    return TlsFiles{(made / (node + ".pem")).string(), (made / (node + ".key")).string(),
                    (made / "ca.pem").string()};
  };
  Ring& n1 = start_ring("n1", files("n1"));
  Remote& c17 = start_remote(files("c17"), {target(n1, "n1")});
  ASSERT_TRUE(run_until([&] { return !c17.attached.empty(); })) << joined(c17.logs);
  ASSERT_EQ(n1.hellos.size(), 1U);
  EXPECT_EQ(n1.hellos[0].node, "c17");
  EXPECT_EQ(certificate_name(files("n1").cert).ok() ? *certificate_name(files("n1").cert) : "",
            "n1");
}

}  // namespace
}  // namespace amata::remote
