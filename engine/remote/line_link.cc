#include "engine/remote/line_link.h"

#include <sys/epoll.h>

#include <utility>

namespace amata::remote {

// How much one turn reads from one link: a flooding peer waits its turn like the others.
constexpr std::size_t kReadPerTurn = std::size_t{256} * 1024;

LineLink::LineLink(base::EventLoop& loop, std::unique_ptr<TlsStream> stream, std::size_t max_output,
                   Handlers handlers)
    : loop_(loop),
      stream_(std::move(stream)),
      max_output_(max_output),
      handlers_(std::move(handlers)) {
  interest_ = EPOLLIN | EPOLLOUT;  // a client's handshake starts by writing
  const Status watched = loop_.watch(stream_->fd(), interest_, [this](std::uint32_t) { pump(); });
  if (!watched) {
    state_ = State::kEnded;
    loop_.post([on_end = handlers_.on_end, why = watched.error().message] { on_end(why); });
  }
}

LineLink::~LineLink() {
  if (loop_.watching(stream_->fd())) loop_.unwatch(stream_->fd());
}

void LineLink::pump() {
  if (state_ == State::kHandshaking) {
    switch (stream_->handshake()) {
      case TlsStream::Io::kDone:
        state_ = State::kOpen;
        handlers_.on_open();
        if (state_ != State::kOpen) return;
        break;
      case TlsStream::Io::kWantRead:
        wants_write_ = false;
        update_interest();
        return;
      case TlsStream::Io::kWantWrite:
        wants_write_ = true;
        update_interest();
        return;
      case TlsStream::Io::kClosed:
        end("closed during the TLS handshake");
        return;
      case TlsStream::Io::kFailed:
        end(stream_->error());
        return;
    }
  }
  if (state_ != State::kOpen) return;
  flush();
  if (state_ == State::kOpen && reading_) read_lines();
  if (state_ == State::kOpen) update_interest();
}

void LineLink::read_lines() {
  std::string bytes;
  const TlsStream::Io io = stream_->read(bytes, kReadPerTurn);
  wants_write_ = io == TlsStream::Io::kWantWrite;
  reader_.feed(bytes);
  std::string line;
  while (state_ == State::kOpen && reading_) {
    const FrameReader::Next next = reader_.next(line);
    if (next == FrameReader::Next::kNeedMore) break;
    if (next == FrameReader::Next::kTooLong) {
      end("protocol error: a line over " + std::to_string(kMaxFrameBytes / 1024) + " KiB");
      return;
    }
    auto message = decode(line);
    if (!message) {
      end("protocol error: " + message.error().message);
      return;
    }
    handlers_.on_message(std::move(*message));
  }
  if (state_ != State::kOpen) return;
  if (io == TlsStream::Io::kClosed) {
    end("connection closed");
  } else if (io == TlsStream::Io::kFailed) {
    end(stream_->error());
  }
}

void LineLink::flush() {
  if (out_.empty()) return;
  const TlsStream::Io io = stream_->write(out_);
  if (io == TlsStream::Io::kFailed) {
    end(stream_->error());
  } else if (io == TlsStream::Io::kClosed) {
    end("connection closed");
  }
  // kWantWrite leaves out_ non-empty, which keeps EPOLLOUT in the interest.
}

void LineLink::send(const LinkMessage& message) {
  if (state_ != State::kOpen) return;
  out_ += encode(message);
  if (out_.size() > max_output_) {
    end("the peer does not read what it is sent");
    return;
  }
  flush();
  if (state_ == State::kOpen) update_interest();
}

void LineLink::set_reading(bool reading) {
  if (reading_ == reading || state_ != State::kOpen) return;
  reading_ = reading;
  update_interest();
  // Lines already buffered do not make the socket readable again: take them now.
  if (reading_ && reader_.buffered() > 0) loop_.post([this] { pump(); });
}

void LineLink::update_interest() {
  std::uint32_t want = 0;
  if (reading_ || state_ == State::kHandshaking) want |= EPOLLIN;
  if (!out_.empty() || wants_write_) want |= EPOLLOUT;
  if (want == interest_) return;
  interest_ = want;
  (void)loop_.modify(stream_->fd(), want);
}

void LineLink::end(const std::string& why, const LinkMessage* farewell) {
  if (state_ == State::kEnded) return;
  if (farewell != nullptr && state_ == State::kOpen) {
    out_ += encode(*farewell);
    (void)stream_->write(out_);  // one attempt: a peer that does not read gets no goodbye
  }
  if (state_ == State::kOpen) stream_->shutdown();
  state_ = State::kEnded;
  if (loop_.watching(stream_->fd())) loop_.unwatch(stream_->fd());
  handlers_.on_end(why);
}

}  // namespace amata::remote
