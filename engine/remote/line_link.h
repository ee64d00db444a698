// One end of a remote-node link on an event loop: a TLS stream (tls.h) cut into lines
// (remote_wire.h), read and written without ever blocking. Both the listener and the
// attacher drive theirs through it.
//
// The handlers run on the loop. A handler may end() the link but must not destroy it: the
// owner destroys a link after its `on_end`, from a later turn (EventLoop::post).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/event_loop.h"
#include "engine/remote/remote_wire.h"
#include "engine/remote/tls.h"

namespace amata::remote {

class LineLink {
 public:
  struct Handlers {
    std::function<void()> on_open;                       // the handshake is done
    std::function<void(LinkMessage)> on_message;         // a line that decoded
    std::function<void(const std::string& why)> on_end;  // once, whatever ended it
  };
  /// Watches the stream's socket on `loop` and starts the handshake.
  LineLink(base::EventLoop& loop, std::unique_ptr<TlsStream> stream, std::size_t max_output,
           Handlers handlers);
  ~LineLink();
  LineLink(const LineLink&) = delete;
  LineLink& operator=(const LineLink&) = delete;

  bool open() const { return state_ == State::kOpen; }
  bool ended() const { return state_ == State::kEnded; }
  const TlsStream& stream() const { return *stream_; }

  /// Queues a message; a link whose peer lets more than `max_output` bytes pile up ends.
  void send(const LinkMessage& message);
  /// Stops (or resumes) reading: backpressure while the owner catches up.
  void set_reading(bool reading);
  /// Does now what the socket's readiness would make it do: before a link is judged silent,
  /// what its peer has sent must have been read (a loop takes 64 ready sockets a turn, and
  /// a heartbeat waiting in the socket is not a missing one).
  void poll() { pump(); }
  /// Sends what it can of `farewell`, closes the connection and calls on_end(why).
  void end(const std::string& why, const LinkMessage* farewell = nullptr);

 private:
  enum class State : std::uint8_t { kHandshaking, kOpen, kEnded };
  void pump();
  void read_lines();
  void flush();
  void update_interest();

  base::EventLoop& loop_;
  std::unique_ptr<TlsStream> stream_;
  std::size_t max_output_;
  Handlers handlers_;
  State state_ = State::kHandshaking;
  FrameReader reader_;
  std::string out_;
  bool reading_ = true;
  bool wants_write_ = false;  // TLS needs the socket writable to go on
  std::uint32_t interest_ = 0;
};

}  // namespace amata::remote
