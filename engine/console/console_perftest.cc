// Measures the console server and the /metrics exposition on this machine. Not a test (no
// assertions on time): run it by hand, e.g. build/con/engine/console/console_perftest.
//   round trip      one client, sequential `version` calls: median and p99 latency
//   fan-in          100 clients x 200 `status` calls at once: total throughput
//   publish         one event to 50 followers: cost on the loop per publish_event()
//   exposition      render_exposition() of 1000 objects x 10 attributes, 1000 rules
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <thread>
#include <vector>

#include "engine/console/client.h"
#include "engine/console/console_server.h"
#include "engine/console/test_backend.h"
#include "engine/metrics/metrics_snapshot.h"

using namespace amata;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

double micros(SteadyClock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

template <typename Done>
void pump(base::EventLoop& loop, Done done) {
  while (!done()) (void)loop.run_once(5ms);
}

}  // namespace

int main() try {
  char tmpl[] = "/tmp/amata-perf-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string dir = tmpl;
  auto loop = base::EventLoop::create();
  console::testing::RecordingBackend backend;
  console::ConsoleConfig config;
  config.socket_path = dir + "/amatad.sock";
  config.max_clients = 128;
  config.requests_per_second = 1e9;
  config.request_burst = 1e9;
  config.log = [](console::LogLevel, std::string_view) {};
  auto server = console::ConsoleServer::start(**loop, backend, config);
  if (!server) {
    std::fprintf(stderr, "%s\n", server.error().message.c_str());
    return 1;
  }

  {  // round trip
    std::vector<double> samples;
    std::atomic<bool> done{false};
    std::thread client([&] {
      auto c = console::ConsoleClient::connect(config.socket_path);
      for (int i = 0; i < 5000; ++i) {
        auto start = SteadyClock::now();
        (void)c->call("version");
        samples.push_back(micros(SteadyClock::now() - start));
      }
      done = true;
    });
    pump(**loop, [&] { return done.load(); });
    client.join();
    std::sort(samples.begin(), samples.end());
    std::printf("round trip (version, 5000 calls): median %.1f us, p99 %.1f us\n",
                samples[samples.size() / 2], samples[samples.size() * 99 / 100]);
  }
  {  // fan-in
    constexpr int kClients = 100, kCalls = 200;
    std::atomic<int> done{0};
    std::vector<std::thread> clients;
    clients.reserve(kClients);
    auto start = SteadyClock::now();
    for (int i = 0; i < kClients; ++i) {
      clients.emplace_back([&] {
        auto c = console::ConsoleClient::connect(config.socket_path);
        for (int j = 0; j < kCalls && c; ++j) (void)c->call("status");
        ++done;
      });
    }
    pump(**loop, [&] { return done == kClients; });
    double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    for (auto& t : clients) t.join();
    std::printf("fan-in (%d clients x %d status): %.0f requests/s\n", kClients, kCalls,
                kClients * kCalls / seconds);
  }
  {  // publish to followers
    constexpr int kFollowers = 50, kEvents = 2000;
    std::atomic<int> done{0};
    std::vector<std::thread> followers;
    followers.reserve(kFollowers);
    for (int i = 0; i < kFollowers; ++i) {
      followers.emplace_back([&] {
        auto c = console::ConsoleClient::connect(config.socket_path);
        (void)c->call("events", {{"follow", true}});
        for (int n = 0; n < kEvents; ++n) {
          if (!c->read_line(20s)) break;
        }
        ++done;
      });
    }
    pump(**loop, [&] { return (*server)->follower_count() == kFollowers; });
    SteadyClock::duration publishing{};
    int published = 0;
    pump(**loop, [&] {
      if (published < kEvents) {
        auto event = console::testing::make_event(published++, "web");
        auto start = SteadyClock::now();
        (*server)->publish_event(event);
        publishing += SteadyClock::now() - start;
      }
      return done == kFollowers;
    });
    for (auto& t : followers) t.join();
    std::printf("publish_event to %d followers: %.1f us per event on the loop\n", kFollowers,
                micros(publishing) / kEvents);
  }
  {  // exposition
    metrics::MetricsSnapshot snapshot;
    for (int i = 0; i < 1000; ++i) {
      metrics::ObjectMetrics object{"svc" + std::to_string(i), "service", "running", true, 0, {}};
      for (int a = 0; a < 10; ++a)
        object.attributes.emplace_back("attr" + std::to_string(a), a * 1.5);
      snapshot.objects.push_back(std::move(object));
      snapshot.rules.push_back({"down(svc" + std::to_string(i) + ")", "armed", 0});
    }
    auto start = SteadyClock::now();
    std::size_t bytes = 0;
    for (int i = 0; i < 20; ++i) bytes = metrics::render_exposition(snapshot).size();
    std::printf("render_exposition (1000 objects x 10 attributes, 1000 rules): %.2f ms, %zu KiB\n",
                micros(SteadyClock::now() - start) / 20 / 1000, bytes / 1024);
  }
  server->reset();
  std::filesystem::remove_all(dir);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "console_perftest: %s\n", e.what());
  return 1;
}
