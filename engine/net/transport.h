#pragma once
// Transport: the data plane between TaskManagers, on Boost.Asio TCP with C++20 coroutines
// (docs/protocol.md has the wire format and the handshake).
//
// Model (Flink's network stack, reduced):
//   - One Transport per process: one network thread running every connection.
//   - One Connection per pair of processes, multiplexing any number of logical channels.
//     A channel is a ChannelKey (job, attempt, channel index) agreed by both ends (the
//     deployment layer assigns them); data of channel c flows one way, its credits the
//     other way. Everything of one attempt is released together (release()). Both ends of a connection
//     may send and receive.
//   - Receiving end (addInput): data of channel c arriving on a connection goes into one
//     channel of an InputGate. The receiver announces as credit the free slots of that
//     gate channel (all of them at first, one more each time the consumer takes an
//     element), so InputGate::tryPush never finds the queue full.
//   - Sending end (openOutput): a NetworkChannelWriter encodes elements into the frame
//     under construction of its channel; each element uses one credit. Without credit,
//     write() blocks the producing subtask's thread (backpressure, returned as blocked
//     nanoseconds as LocalChannelWriter does): one slow receiver stops only the producers
//     of its own channels, never the connection.
//   - Batching: a frame is sent when it reaches flushBytes, when a checkpoint barrier or
//     end of partition is written, when the writer runs out of credit, or when the flush
//     timeout (Flink's buffer timeout, 10 ms by default) has passed since its first
//     element: small batches under light load share one frame without waiting long.
//   - One write in flight per connection, from a write queue bounded by the credits given.
//   - A malformed frame, a frame beyond the size limit or data beyond the credit given
//     closes that connection only, with the reason logged (and sent in a Close frame).
//
// Threading: Transport's methods may be called from any thread. Accept/close callbacks
// run on the network thread and must not block. NetworkChannelWriter::write is called
// from one producing thread at a time and may block; cancel() from any thread.
//
// Security: listeners bind 127.0.0.1 by default; another address requires a secret.
// With a secret, both sides prove they know it (HMAC-SHA256 over fresh nonces) before any
// other frame is read. Without one (loopback only) the handshake runs with an empty key.
// With TLS files (TransportOptions::tls) every connection is TLS first, both sides
// presenting a certificate of the cluster's CA; the secret handshake then runs inside.
//
// Asio stays inside transport.cpp: this header is included by the cluster layer.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "net/frame.h"
#include "net/tls.h"
#include "runtime/channel.h"

namespace weir::net {

/// A connection failed or closed under a channel (thrown by NetworkChannelWriter::write,
/// connect and listen). The subtask turns it into a job failure with this message.
class NetworkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TransportOptions {
  std::string nodeName = "node";       // shown to peers and in logs
  std::string clusterId = "weir";      // peers of other clusters are refused
  std::string secret;                  // empty: loopback listeners only
  /// Set: every connection (accepted or made) runs TLS with mutual certificate checks
  /// (net/tls.h) before the secret handshake; a plain peer is refused with a REJECT that
  /// says so. The constructor throws NetworkError when the files are not usable.
  net::TlsFiles tls;
  std::uint32_t maxFramePayload = kDefaultMaxPayload;
  std::chrono::milliseconds flushTimeout{10};
  std::size_t flushBytes = 32 * 1024;  // send a frame once it holds this much
  std::chrono::milliseconds handshakeTimeout{5000};
  /// One line per event (connections, refusals with reasons). Default: stderr. Called on
  /// the network thread, or the calling thread for listen/connect.
  std::function<void(std::string_view)> log;
};

/// Counters of a connection (relaxed; for metrics and tests).
struct ConnectionStats {
  std::uint64_t framesOut = 0, framesIn = 0;
  std::uint64_t bytesOut = 0, bytesIn = 0;
  std::uint64_t dataFramesOut = 0, elementsOut = 0;
};

/// One authenticated connection to a peer process (owned by the Transport; handles are
/// shared so that callers can hold them while the network thread works on them).
class Connection {
 public:
  virtual ~Connection() = default;
  virtual const std::string& peerName() const = 0;
  virtual bool isOpen() const = 0;
  /// Why it closed ("" while open).
  virtual std::string closeReason() const = 0;
  virtual ConnectionStats stats() const = 0;
  /// Closes the connection (Close frame with this reason, then the socket).
  virtual void close(std::string reason) = 0;
};
using ConnectionPtr = std::shared_ptr<Connection>;

class Transport;
struct OutputChannel;

/// Channels a Transport holds now.
struct TransportCounts {
  std::size_t outputs = 0;   // sending ends (opened, or credited before being opened)
  std::size_t inputs = 0;    // receiving ends registered with addInput
  std::size_t attempts = 0;  // distinct attempts among them
};

/// The sending end of one network channel (see the top of this file).
class NetworkChannelWriter final : public ChannelWriter {
 public:
  ~NetworkChannelWriter() override;
  /// Encodes the element into the channel's frame, waiting for credit first (the time
  /// waited is returned: backpressure). Throws ChannelCanceled after cancel(), and
  /// NetworkError when the channel's connection is gone.
  std::int64_t write(StreamElement element) override;
  /// Fill of the receiver's queue as this side knows it: credits in use / credits first
  /// given.
  double usage() const override;
  /// Sends the frame under construction now (does not wait for credit or for the write).
  void flush();
  /// Wakes a blocked write; later writes throw ChannelCanceled.
  void cancel();
  ChannelKey channel() const { return id_; }
  /// Whether the receiver has announced credit yet (it registered the channel).
  bool credited() const;
  /// Frames and elements sent by this writer so far.
  std::uint64_t framesSent() const;

 private:
  friend class Transport;
  NetworkChannelWriter(std::shared_ptr<OutputChannel> state, ChannelKey id);
  std::int64_t writeOne(StreamElement element);

  std::shared_ptr<OutputChannel> state_;
  ChannelKey id_;
};

class Transport {
 public:
  /// Starts the network thread. Throws NetworkError when options.tls is set and its files
  /// are not usable (which flag and file, and why).
  explicit Transport(TransportOptions options);
  /// Closes every connection, fails every writer (NetworkError) and stops the network
  /// thread. Gates registered with addInput stop receiving credits callbacks' effects.
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// Listens on address:port (0: any free port) and returns the bound port. Throws
  /// NetworkError when the address cannot be bound, or is not a loopback address while
  /// no secret is configured.
  std::uint16_t listen(const std::string& address = "127.0.0.1", std::uint16_t port = 0);

  /// Connects and runs the handshake; blocks the caller until the peer accepted or
  /// refused. Throws NetworkError with the reason.
  ConnectionPtr connect(const std::string& host, std::uint16_t port);

  /// Called on the network thread for each connection accepted by a listener, after its
  /// handshake, and for each connection that closes (with the reason), except those
  /// closed by ~Transport. Set before listen/connect.
  void setOnConnection(std::function<void(const ConnectionPtr&)> f);
  void setOnClosed(std::function<void(const ConnectionPtr&, const std::string& reason)> f);

  /// Receiving end: elements of `channel` arriving on `connection` go to `gateChannel`
  /// of `gate`; the gate's capacity is announced as the first credit. That gate channel
  /// must be empty and written by nobody else. The gate must outlive the Transport, or
  /// the connection; call before the gate's consumer starts (it installs the gate's
  /// take listener the first time a gate is seen).
  void addInput(const ConnectionPtr& connection, ChannelKey channel, InputGate& gate, int gateChannel);

  /// Sending end of `channel`. Its frames go to the connection its credits come from, so
  /// a writer may be opened before the consumer's process connects. One writer per id.
  std::unique_ptr<NetworkChannelWriter> openOutput(ChannelKey channel);

  /// Ends everything of one attempt here (call once its subtasks have stopped, before its
  /// gates and writers are destroyed): what its producers wrote is still sent (the frame
  /// under construction included), then its outputs fail and are forgotten, its gates get
  /// no more credit callbacks, every connection forgets its inputs, and its late frames
  /// (data or credit in flight) are dropped quietly from now on instead of closing the
  /// connection. Blocks until the network thread has done its part; must not be called
  /// on the network thread. A no-op after the Transport stopped.
  void release(AttemptKey attempt);

  /// Releases every attempt that has anything wired here and is not in `keep` (a
  /// TaskManager that lost its JobManager: credit may have come for an attempt whose
  /// deployment never reached it). Returns how many it released.
  std::size_t releaseAllBut(const std::set<AttemptKey>& keep);

  /// What is wired now (for the TaskManager's report and tests: zero once every attempt
  /// is released).
  TransportCounts counts() const;

  const TransportOptions& options() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir::net
