#include "engine/notify/notifier.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "base/priority.h"
#include "base/signal_free_thread.h"
#include "base/version.h"

namespace amata::notify {

using Type = catalog::ChannelSpec::Type;

namespace {

double monotonic_seconds() {
  return std::chrono::duration<double>(base::Clock::now().time_since_epoch()).count();
}

std::string describe_channel(const catalog::ChannelSpec& c) {
  switch (c.type) {
    case Type::kWebhook:
      return "webhook " + c.url;
    case Type::kAlertmanager:
      return "alertmanager " + c.url;
    case Type::kEmail:
      return "email via " + c.url;
    case Type::kHook:
      break;
  }
  return "hook " + c.name;
}

/// Where an alert goes: the v2 API under the base URL the policy names.
std::string alerts_url(const std::string& base) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/api/v2/alerts";
}

/// One delivery: what to send where, and its attempts so far.
struct Job {
  catalog::ChannelSpec channel;
  std::string body;                   // the HTTP body, or the mail's text
  Notifier::Done done;                // empty: a re-send or a resolution nobody waits for
  std::optional<Notification> alert;  // an alert to keep active until its event clears
  int attempts = 0;
  double due = 0;  // monotonic seconds of the next attempt
  // The attempt in flight.
  CURL* easy = nullptr;
  curl_slist* list = nullptr;  // HTTP headers, or the mail's recipients
  std::string response;        // the start of the answer, for a failure's detail
  std::size_t uploaded = 0;    // of `body`, for SMTP
  char error[CURL_ERROR_SIZE] = {};

  Job() = default;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  ~Job() { release(); }
  void release() {
    if (easy) curl_easy_cleanup(easy);
    if (list) curl_slist_free_all(list);
    easy = nullptr;
    list = nullptr;
  }
};

std::size_t on_response(char* data, std::size_t size, std::size_t n, void* user) {
  auto* job = static_cast<Job*>(user);
  const std::size_t bytes = size * n;
  // Only the start is kept: it goes into a failure's detail, and a receiver cannot make
  // amatad hold a large answer.
  if (job->response.size() < 512) {
    job->response.append(data, std::min(bytes, 512 - job->response.size()));
  }
  return bytes;
}

std::size_t on_upload(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* job = static_cast<Job*>(user);
  const std::size_t room = size * n;
  const std::size_t left = job->body.size() - job->uploaded;
  const std::size_t take = std::min(room, left);
  std::copy_n(job->body.data() + job->uploaded, take, buffer);
  job->uploaded += take;
  return take;
}

/// Makes the attempt's easy handle; false with job.response holding why.
bool prepare(Job& job) {
  job.release();
  job.response.clear();
  job.uploaded = 0;
  job.error[0] = '\0';
  job.easy = curl_easy_init();
  if (!job.easy) {
    job.response = "curl_easy_init failed";
    return false;
  }
  CURL* e = job.easy;
  const catalog::ChannelSpec& c = job.channel;
  const long timeout_ms = std::max(1L, std::lround(c.timeout * 1000));
  curl_easy_setopt(e, CURLOPT_PRIVATE, &job);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, job.error);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  if (!c.ca.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, c.ca.c_str());
  if (c.type == Type::kEmail) {
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_URL, c.url.c_str());
    const std::string from = "<" + c.from + ">";
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from.c_str());
    for (const auto& to : c.to) job.list = curl_slist_append(job.list, ("<" + to + ">").c_str());
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, job.list);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &on_upload);
    curl_easy_setopt(e, CURLOPT_READDATA, &job);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(job.body.size()));
  } else {
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    const std::string url = c.type == Type::kAlertmanager ? alerts_url(c.url) : c.url;
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    job.list = curl_slist_append(job.list, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, job.list);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(job.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, job.body.c_str());
    const std::string agent = "amatad/" + std::string(base::version());
    curl_easy_setopt(e, CURLOPT_USERAGENT, agent.c_str());
  }
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_response);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &job);
  return true;
}

/// Whether the attempt that ended with `code` delivered; `why` says what happened.
bool delivered(Job& job, CURLcode code, std::string& why) {
  if (code != CURLE_OK) {
    why = job.error[0] != '\0' ? std::string(job.error) : curl_easy_strerror(code);
    return false;
  }
  if (job.channel.type == Type::kEmail) {
    why = "accepted for " + std::to_string(job.channel.to.size()) + " recipient" +
          (job.channel.to.size() == 1 ? "" : "s");
    return true;
  }
  long status = 0;
  curl_easy_getinfo(job.easy, CURLINFO_RESPONSE_CODE, &status);
  why = "HTTP " + std::to_string(status);
  if (status >= 200 && status < 300) return true;
  std::string answer = job.response;
  std::replace_if(
      answer.begin(), answer.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x20; },
      ' ');
  if (answer.size() > 200) answer = answer.substr(0, 200) + "...";
  if (!answer.empty()) why += ": " + answer;
  return false;
}

}  // namespace

/// An alert Alertmanager was told about and is told again until its event clears.
struct ActiveAlert {
  catalog::ChannelSpec channel;
  Notification raised;
  double next_send = 0;  // monotonic seconds
};

struct Notifier::Worker {
  base::EventLoop& loop;
  Log log;
  Options options;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);  // false once the Notifier is gone

  CURLM* multi = nullptr;
  std::atomic<std::size_t> pending{0};

  /// A send, or the clear of an event, in the order the loop asked for them.
  struct Request {
    std::unique_ptr<Job> job;
    Notification cleared;  // when no job
  };
  std::mutex mutex;  // guards the two below
  bool stopping = false;
  std::vector<Request> incoming;

  // The worker thread's own.
  std::vector<std::unique_ptr<Job>> waiting;  // for their `due`
  std::vector<std::unique_ptr<Job>> in_flight;
  std::map<std::string, ActiveAlert> alerts;  // by channel and alert_key

  Worker(base::EventLoop& l, Log lg, Options o) : loop(l), log(std::move(lg)), options(o) {}
  ~Worker() {
    for (auto& job : in_flight) curl_multi_remove_handle(multi, job->easy);
    in_flight.clear();
    if (multi) curl_multi_cleanup(multi);
  }

  void run();
  void take_requests(double now);
  void resolve(const Notification& cleared, double now);
  void start_due(double now);
  void finish_transfers(double now);
  void ended(std::unique_ptr<Job> job, bool ok, const std::string& why, double now);
  int poll_timeout_ms(double now) const;
  void report(Notifier::Done done, Delivery delivery);
  void say(std::string text);
};

void Notifier::Worker::run() {
  base::move_this_thread_to_background();
  while (true) {
    const double now = monotonic_seconds();
    take_requests(now);
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
    }
    start_due(now);
    int running = 0;
    curl_multi_perform(multi, &running);
    finish_transfers(monotonic_seconds());
    curl_multi_poll(multi, nullptr, 0, poll_timeout_ms(monotonic_seconds()), nullptr);
  }
}

void Notifier::Worker::take_requests(double now) {
  std::vector<Request> requests;
  {
    std::lock_guard lock(mutex);
    requests.swap(incoming);
  }
  for (auto& r : requests) {
    if (!r.job) {
      resolve(r.cleared, now);
      continue;
    }
    r.job->due = now;
    if (r.job->alert) {
      // Active until its event clears; a second raise of the same alert replaces it.
      ActiveAlert& a = alerts[r.job->channel.name + "\n" + alert_key(*r.job->alert)];
      a = ActiveAlert{r.job->channel, *r.job->alert, now + options.alert_repeat};
    }
    waiting.push_back(std::move(r.job));
  }
}

void Notifier::Worker::resolve(const Notification& cleared, double now) {
  for (auto it = alerts.begin(); it != alerts.end();) {
    const Notification& raised = it->second.raised;
    if (raised.event != cleared.event || raised.objects != cleared.objects) {
      ++it;
      continue;
    }
    auto job = std::make_unique<Job>();
    job->channel = it->second.channel;
    job->body = alertmanager_body(raised, cleared.time);
    job->due = now;
    waiting.push_back(std::move(job));
    it = alerts.erase(it);
  }
}

void Notifier::Worker::start_due(double now) {
  // Active alerts whose repeat is due go out again (one send each, not retried: the next
  // repeat is the retry).
  for (auto& [key, alert] : alerts) {
    if (alert.next_send > now) continue;
    alert.next_send = now + options.alert_repeat;
    auto job = std::make_unique<Job>();
    job->channel = alert.channel;
    job->channel.retries = 0;
    job->body = alertmanager_body(alert.raised);
    job->due = now;
    waiting.push_back(std::move(job));
  }
  for (auto it = waiting.begin(); it != waiting.end();) {
    if ((*it)->due > now) {
      ++it;
      continue;
    }
    std::unique_ptr<Job> job = std::move(*it);
    it = waiting.erase(it);
    ++job->attempts;
    if (!prepare(*job)) {
      const std::string why = job->response;
      ended(std::move(job), false, why, now);
      continue;
    }
    curl_multi_add_handle(multi, job->easy);
    in_flight.push_back(std::move(job));
  }
}

void Notifier::Worker::finish_transfers(double now) {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;
    auto it = std::find_if(in_flight.begin(), in_flight.end(),
                           [easy](const auto& j) { return j->easy == easy; });
    if (it == in_flight.end()) continue;
    std::unique_ptr<Job> job = std::move(*it);
    in_flight.erase(it);
    curl_multi_remove_handle(multi, easy);
    std::string why;
    const bool ok = delivered(*job, code, why);
    job->release();
    ended(std::move(job), ok, why, now);
  }
}

void Notifier::Worker::ended(std::unique_ptr<Job> job, bool ok, const std::string& why,
                             double now) {
  const std::string what = describe_channel(job->channel);
  if (!ok && job->attempts <= job->channel.retries) {
    // 1 s, 2 s, 4 s ... at most max_backoff.
    const double backoff =
        std::min(options.max_backoff, options.first_backoff * std::pow(2.0, job->attempts - 1));
    job->due = now + backoff;
    waiting.push_back(std::move(job));
    return;
  }
  const std::string attempts =
      job->attempts == 1 ? "" : fmt::format(" ({} attempts)", job->attempts);
  if (!job->done) {
    if (!ok) say(what + ": " + why + attempts);
    return;
  }
  pending.fetch_sub(1);
  report(std::move(job->done), Delivery{ok, job->attempts, what + ": " + why + attempts});
}

int Notifier::Worker::poll_timeout_ms(double now) const {
  // Idle, the thread sleeps until a request or the stop wakes it (curl_multi_wakeup): an
  // amatad that has sent one mail must not wake every second for ever after.
  double next = now + 3600.0;
  for (const auto& job : waiting) next = std::min(next, job->due);
  for (const auto& [key, alert] : alerts) next = std::min(next, alert.next_send);
  long curl_ms = -1;
  curl_multi_timeout(multi, &curl_ms);
  double ms = std::max(0.0, (next - now) * 1000);
  if (curl_ms >= 0) ms = std::min(ms, static_cast<double>(curl_ms));
  return static_cast<int>(std::ceil(ms));
}

void Notifier::Worker::report(Notifier::Done done, Delivery delivery) {
  std::weak_ptr<bool> guard = alive;
  loop.post([guard, done = std::move(done), delivery = std::move(delivery)] {
    if (!guard.expired()) done(delivery);
  });
}

void Notifier::Worker::say(std::string text) {
  std::weak_ptr<bool> guard = alive;
  loop.post([guard, this, text = std::move(text)] {
    if (!guard.expired() && log) log(text);
  });
}

// --- Notifier -------------------------------------------------------------------------------

Result<std::unique_ptr<Notifier>> Notifier::start(base::EventLoop& loop, Log log, Options options) {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) {
    return Error{std::string("curl_global_init: ") + curl_easy_strerror(global)};
  }
  std::unique_ptr<Notifier> n(new Notifier());
  n->worker_ = std::make_shared<Worker>(loop, std::move(log), options);
  n->worker_->multi = curl_multi_init();
  if (!n->worker_->multi) return Error{"curl_multi_init failed"};
  n->thread_ = base::start_signal_free_thread([w = n->worker_] { w->run(); });
  return n;
}

Notifier::~Notifier() {
  {
    std::lock_guard lock(worker_->mutex);
    worker_->stopping = true;
  }
  *worker_->alive = false;
  worker_->alive.reset();
  curl_multi_wakeup(worker_->multi);
  if (thread_.joinable()) thread_.join();
}

void Notifier::send(const catalog::ChannelSpec& channel, const Notification& n, Done done) {
  Worker& w = *worker_;
  if (w.pending.load() >= w.options.max_pending) {
    w.report(std::move(done),
             Delivery{false, 0,
                      fmt::format("{}: not sent, {} notifications are already waiting",
                                  describe_channel(channel), w.pending.load())});
    return;
  }
  auto job = std::make_unique<Job>();
  job->channel = channel;
  job->done = std::move(done);
  switch (channel.type) {
    case Type::kWebhook:
      job->body = webhook_body(n);
      break;
    case Type::kAlertmanager:
      job->body = alertmanager_body(n);
      break;
    case Type::kEmail:
      job->body = mail_text(n, channel.from, channel.to, base::unix_now());
      break;
    case Type::kHook:
      w.report(std::move(job->done), Delivery{false, 0, "a hook channel is not delivered here"});
      return;
  }
  if (channel.type == Type::kAlertmanager) job->alert = n;
  w.pending.fetch_add(1);
  {
    std::lock_guard lock(w.mutex);
    w.incoming.push_back({std::move(job), {}});
  }
  curl_multi_wakeup(w.multi);
}

void Notifier::cleared(const Notification& n) {
  {
    std::lock_guard lock(worker_->mutex);
    worker_->incoming.push_back({nullptr, n});
  }
  curl_multi_wakeup(worker_->multi);
}

std::size_t Notifier::pending() const {
  return worker_->pending.load();
}

}  // namespace amata::notify
