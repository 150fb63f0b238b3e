#pragma once
// Frames: the unit of the TaskManager wire protocol (docs/protocol.md, byte by byte).
//
// Every frame is a 28-byte header and a payload:
//   magic "WEIR" | version u8 | type u8 | flags u16 | job u64 | attempt u32 | channel u32
//   | payload length u32
// little-endian. Job, attempt and channel together name a logical channel (ChannelKey);
// connection-level frames carry zeros there. A frame whose header is wrong (magic, version, unknown type, flags set
// that the type does not define, a payload longer than the connection's limit or than
// the type allows) is refused as soon as its header is read, before any payload byte is
// buffered: the limit is what a peer can make us allocate.
//
// FrameDecoder parses a byte stream incrementally (feed whatever arrived, take frames
// out); the payload parsers below check every field of the handshake, credit and close
// payloads. Data payloads are elements (net/codec.h) after an element count.
//
// Authentication (protocol.md, "Handshake"): mutual HMAC-SHA256 challenge-response over
// the cluster secret with a fresh 32-byte nonce from each side; the secret itself never
// travels and proofs are compared in constant time.
//
// Threading: everything here is plain data and pure functions; a decoder belongs to one
// connection's reader.

#include <array>
#include <compare>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weir::net {

inline constexpr std::uint32_t kFrameMagic = 0x52494557;  // bytes 'W' 'E' 'I' 'R'
inline constexpr std::uint8_t kProtocolVersion = 2;
inline constexpr std::size_t kFrameHeaderSize = 28;
/// Largest payload any connection accepts (a connection may configure less).
inline constexpr std::uint32_t kHardMaxPayload = 64u << 20;
/// Default payload limit of a connection.
inline constexpr std::uint32_t kDefaultMaxPayload = 8u << 20;
/// Largest payload of a handshake, credit or close frame, whatever the connection limit.
inline constexpr std::uint32_t kMaxControlPayload = 1024;
inline constexpr std::size_t kNonceSize = 32;
inline constexpr std::size_t kProofSize = 32;  // HMAC-SHA256
inline constexpr std::size_t kMaxNameSize = 255;  // cluster id, node name

enum class FrameType : std::uint8_t {
  Hello = 1,      // client -> server: version, cluster id, node name, client nonce
  Challenge = 2,  // server -> client: server nonce, server proof, server node name
  Auth = 3,       // client -> server: client proof
  Welcome = 4,    // server -> client: handshake done
  Reject = 5,     // either way during the handshake: reason text, then the socket closes
  Data = 16,      // channel: element count, elements
  Credit = 17,    // channel: credits (u32) the receiver adds for that channel
  Close = 18,     // connection: reason code and text, then the socket closes
  Ping = 19,      // keepalive; empty payload
  Control = 20,   // cluster control plane (JobManager <-> TaskManager): one JSON object
                  // (engine/cluster/control.h); the data Transport refuses it
};
std::string_view frameTypeName(FrameType t);
bool isKnownFrameType(std::uint8_t t);

/// Flags of a Data frame.
inline constexpr std::uint16_t kDataFlush = 1;  // sent by the flush timer (informational)

/// One attempt (deployment) of one job: everything a TaskManager wires for it is released
/// together when the attempt ends, and frames of a released attempt are dropped.
struct AttemptKey {
  std::uint64_t job = 0;
  std::uint32_t attempt = 0;
  auto operator<=>(const AttemptKey&) const = default;
  std::string toString() const;
};

/// A logical channel on the wire: its job, the job's attempt and the channel's index in
/// that attempt's execution graph. Never reused: a restarted job gets a new attempt, a
/// resubmitted one a new job id, so a stale frame can never reach a newer channel.
struct ChannelKey {
  std::uint64_t job = 0;
  std::uint32_t attempt = 0;
  std::uint32_t channel = 0;
  auto operator<=>(const ChannelKey&) const = default;
  AttemptKey scope() const { return {job, attempt}; }
  std::string toString() const;  // "JOB/ATTEMPT/CHANNEL", job in hex
};
struct ChannelKeyHash {
  std::size_t operator()(const ChannelKey& k) const {
    return std::hash<std::uint64_t>{}(k.job ^ (std::uint64_t{k.attempt} << 40) ^ (std::uint64_t{k.channel} * 0x9E3779B97F4A7C15ull));
  }
};

struct FrameHeader {
  FrameType type = FrameType::Ping;
  std::uint16_t flags = 0;
  ChannelKey channel;
  std::uint32_t length = 0;  // payload bytes
};

/// Why bytes are not a frame: byte offset in the stream and what is wrong.
struct FrameError {
  std::uint64_t offset = 0;
  std::string reason;
  std::string toString() const;
};

/// Writes a header into kFrameHeaderSize bytes at `out`.
void writeFrameHeader(std::uint8_t* out, const FrameHeader& h);
/// Parses and checks the header bytes against `maxPayload`; `streamOffset` for the error.
std::optional<FrameError> checkFrameHeader(std::span<const std::uint8_t, kFrameHeaderSize> bytes,
                                           std::uint32_t maxPayload, std::uint64_t streamOffset,
                                           FrameHeader& out);

/// A whole frame (header + payload) in one buffer, ready to write.
std::vector<std::uint8_t> makeFrame(FrameType type, ChannelKey channel, std::span<const std::uint8_t> payload,
                                    std::uint16_t flags = 0);

/// Incremental decoder of a frame stream.
///
///   while (!in.empty()) {
///     in = in.subspan(dec.feed(in));
///     if (dec.state() == FrameDecoder::State::Frame) { use(dec.header(), dec.payload()); dec.next(); }
///     else if (dec.state() == FrameDecoder::State::Error) { close(dec.error()); break; }
///   }
///
/// feed() stops after completing one frame, so a caller sees every frame before the
/// decoder reuses its buffer. The payload buffer grows to the largest payload seen, which
/// the header check bounds by maxPayload.
class FrameDecoder {
 public:
  enum class State { NeedMore, Frame, Error };

  explicit FrameDecoder(std::uint32_t maxPayload = kDefaultMaxPayload);
  /// Lowers or raises the limit for frames whose header has not been read yet (the
  /// handshake runs with kMaxControlPayload).
  void setMaxPayload(std::uint32_t maxPayload);

  /// Consumes bytes; returns how many it used (less than given once a frame is complete
  /// or an error found). Does nothing in state Frame or Error.
  std::size_t feed(std::span<const std::uint8_t> bytes);
  State state() const { return state_; }
  const FrameHeader& header() const { return header_; }
  /// Valid in state Frame until next() or feed().
  std::span<const std::uint8_t> payload() const { return {payload_.data(), header_.length}; }
  /// Stream offset of the current frame's first header byte.
  std::uint64_t frameOffset() const { return frameStart_; }
  const FrameError& error() const { return error_; }
  /// After a Frame: start on the next one.
  void next();

 private:
  std::uint32_t maxPayload_;
  State state_ = State::NeedMore;
  std::array<std::uint8_t, kFrameHeaderSize> head_{};
  std::size_t headHave_ = 0;
  FrameHeader header_;
  std::vector<std::uint8_t> payload_;
  std::size_t payloadHave_ = 0;
  std::uint64_t consumed_ = 0;    // bytes of the stream fed so far
  std::uint64_t frameStart_ = 0;
  FrameError error_;
};

// ---- handshake, credit and close payloads ------------------------------------------

using Nonce = std::array<std::uint8_t, kNonceSize>;
using Proof = std::array<std::uint8_t, kProofSize>;

struct Hello {
  std::uint8_t version = kProtocolVersion;
  std::string clusterId;
  std::string nodeName;
  Nonce nonce{};
};
struct Challenge {
  Nonce nonce{};
  Proof proof{};  // server's proof: HMAC(secret, "weir/1 server" | cluster | clientNonce | serverNonce)
  std::string nodeName;
};
struct Auth {
  Proof proof{};  // client's proof: HMAC(secret, "weir/1 client" | cluster | serverNonce | clientNonce)
};
struct CloseReason {
  std::uint16_t code = 0;  // CloseCode
  std::string text;
};

/// Why a connection ends (Close and Reject frames; logs).
enum class CloseCode : std::uint16_t {
  Normal = 0,
  ProtocolError = 1,  // malformed or unexpected frame
  AuthFailed = 2,
  VersionMismatch = 3,
  ClusterMismatch = 4,
  Timeout = 5,
  Shutdown = 6,
  CreditViolation = 7,  // data beyond the credit given
};

std::vector<std::uint8_t> encodeHello(const Hello& h);
std::vector<std::uint8_t> encodeChallenge(const Challenge& c);
std::vector<std::uint8_t> encodeAuth(const Auth& a);
std::vector<std::uint8_t> encodeCredit(std::uint32_t credits);
std::vector<std::uint8_t> encodeClose(const CloseReason& r);

/// Each parser checks the exact payload size and every field; the error names the field.
std::optional<Hello> parseHello(std::span<const std::uint8_t> p, std::string& error);
std::optional<Challenge> parseChallenge(std::span<const std::uint8_t> p, std::string& error);
std::optional<Auth> parseAuth(std::span<const std::uint8_t> p, std::string& error);
std::optional<std::uint32_t> parseCredit(std::span<const std::uint8_t> p, std::string& error);
std::optional<CloseReason> parseClose(std::span<const std::uint8_t> p, std::string& error);

/// A fresh random nonce (OpenSSL RAND_bytes).
Nonce randomNonce();
/// The proofs of the handshake (see Challenge and Auth).
Proof serverProof(std::string_view secret, std::string_view clusterId, const Nonce& client, const Nonce& server);
Proof clientProof(std::string_view secret, std::string_view clusterId, const Nonce& client, const Nonce& server);
/// Constant-time comparison (CRYPTO_memcmp).
bool proofEquals(const Proof& a, const Proof& b);

}  // namespace weir::net
