#include "net/frame.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "core/text.h"

namespace weir::net {

namespace {

void put16(std::uint8_t* p, std::uint16_t v) { std::memcpy(p, &v, 2); }
void put32(std::uint8_t* p, std::uint32_t v) { std::memcpy(p, &v, 4); }
std::uint16_t get16(const std::uint8_t* p) { std::uint16_t v; std::memcpy(&v, p, 2); return v; }
std::uint32_t get32(const std::uint8_t* p) { std::uint32_t v; std::memcpy(&v, p, 4); return v; }
void put64(std::uint8_t* p, std::uint64_t v) { std::memcpy(p, &v, 8); }
std::uint64_t get64(const std::uint8_t* p) { std::uint64_t v; std::memcpy(&v, p, 8); return v; }

/// Flags each frame type may carry.
std::uint16_t allowedFlags(FrameType t) { return t == FrameType::Data ? kDataFlush : 0; }

/// Payload bound of a type, beyond the connection's.
std::uint32_t typeMaxPayload(FrameType t, std::uint32_t connectionMax) {
  return t == FrameType::Data || t == FrameType::Control ? connectionMax
                                                            : std::min(connectionMax, kMaxControlPayload);
}

/// Appends a u8-length-prefixed string (names are at most kMaxNameSize bytes).
void putName(std::vector<std::uint8_t>& out, std::string_view s) {
  const std::size_t n = std::min(s.size(), kMaxNameSize);
  out.push_back(static_cast<std::uint8_t>(n));
  out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
}

/// Bounds-checked reader for the small control payloads.
struct Cursor {
  std::span<const std::uint8_t> p;
  std::size_t pos = 0;
  std::string& error;
  bool fail(std::string why) {
    if (error.empty()) error = std::move(why) + " (at payload byte " + std::to_string(pos) + ")";
    return false;
  }
  bool take(void* dst, std::size_t n, const char* what) {
    if (!error.empty()) return false;
    if (p.size() - pos < n) return fail(std::string("truncated ") + what);
    std::memcpy(dst, p.data() + pos, n);
    pos += n;
    return true;
  }
  bool name(std::string& out, const char* what) {
    std::uint8_t n = 0;
    if (!take(&n, 1, what)) return false;
    if (p.size() - pos < n) return fail(std::string("truncated ") + what);
    out.assign(reinterpret_cast<const char*>(p.data() + pos), n);
    pos += n;
    // Names end up in log lines, answers and metadata: text, not bytes.
    if (toValidUtf8(out) != out) return fail(std::string(what) + " is not UTF-8");
    return true;
  }
  bool end() {
    if (!error.empty()) return false;
    if (pos != p.size()) return fail(std::to_string(p.size() - pos) + " unexpected trailing bytes");
    return true;
  }
};

Proof hmacProof(std::string_view secret, std::string_view label, std::string_view clusterId,
                const Nonce& first, const Nonce& second) {
  std::vector<std::uint8_t> msg;
  msg.reserve(label.size() + 1 + clusterId.size() + 2 * kNonceSize);
  msg.insert(msg.end(), label.begin(), label.end());
  msg.push_back(static_cast<std::uint8_t>(clusterId.size()));
  msg.insert(msg.end(), clusterId.begin(), clusterId.end());
  msg.insert(msg.end(), first.begin(), first.end());
  msg.insert(msg.end(), second.begin(), second.end());
  Proof out{};
  unsigned int len = 0;
  static const std::uint8_t kEmpty = 0;
  const void* key = secret.empty() ? static_cast<const void*>(&kEmpty) : secret.data();
  if (!HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), msg.data(), msg.size(), out.data(), &len) ||
      len != kProofSize)
    throw std::runtime_error("HMAC-SHA256 failed");
  return out;
}

}  // namespace

std::string_view frameTypeName(FrameType t) {
  switch (t) {
    case FrameType::Hello: return "HELLO";
    case FrameType::Challenge: return "CHALLENGE";
    case FrameType::Auth: return "AUTH";
    case FrameType::Welcome: return "WELCOME";
    case FrameType::Reject: return "REJECT";
    case FrameType::Data: return "DATA";
    case FrameType::Credit: return "CREDIT";
    case FrameType::Close: return "CLOSE";
    case FrameType::Ping: return "PING";
    case FrameType::Control: return "CONTROL";
  }
  return "?";
}

bool isKnownFrameType(std::uint8_t t) { return (t >= 1 && t <= 5) || (t >= 16 && t <= 20); }

std::string AttemptKey::toString() const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%016llx/%u", static_cast<unsigned long long>(job), attempt);
  return buf;
}

std::string ChannelKey::toString() const { return scope().toString() + "/" + std::to_string(channel); }

std::string FrameError::toString() const { return "at stream byte " + std::to_string(offset) + ": " + reason; }

void writeFrameHeader(std::uint8_t* out, const FrameHeader& h) {
  put32(out, kFrameMagic);
  out[4] = kProtocolVersion;
  out[5] = static_cast<std::uint8_t>(h.type);
  put16(out + 6, h.flags);
  put64(out + 8, h.channel.job);
  put32(out + 16, h.channel.attempt);
  put32(out + 20, h.channel.channel);
  put32(out + 24, h.length);
}

std::optional<FrameError> checkFrameHeader(std::span<const std::uint8_t, kFrameHeaderSize> b,
                                           std::uint32_t maxPayload, std::uint64_t at, FrameHeader& out) {
  const std::uint32_t magic = get32(b.data());
  if (magic != kFrameMagic) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "bad magic %02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
    return FrameError{at, buf};
  }
  if (b[4] != kProtocolVersion)
    return FrameError{at + 4, "protocol version " + std::to_string(b[4]) + ", this side speaks " +
                                  std::to_string(kProtocolVersion)};
  if (!isKnownFrameType(b[5])) return FrameError{at + 5, "unknown frame type " + std::to_string(b[5])};
  out.type = static_cast<FrameType>(b[5]);
  out.flags = get16(b.data() + 6);
  out.channel = {get64(b.data() + 8), get32(b.data() + 16), get32(b.data() + 20)};
  out.length = get32(b.data() + 24);
  if (out.flags & ~allowedFlags(out.type))
    return FrameError{at + 6, "flags " + std::to_string(out.flags) + " not defined for " +
                                  std::string(frameTypeName(out.type))};
  const std::uint32_t limit = typeMaxPayload(out.type, std::min(maxPayload, kHardMaxPayload));
  if (out.length > limit)
    return FrameError{at + 24, std::string(frameTypeName(out.type)) + " payload of " + std::to_string(out.length) +
                                   " bytes exceeds the limit of " + std::to_string(limit)};
  return std::nullopt;
}

std::vector<std::uint8_t> makeFrame(FrameType type, ChannelKey channel, std::span<const std::uint8_t> payload,
                                    std::uint16_t flags) {
  std::vector<std::uint8_t> f(kFrameHeaderSize + payload.size());
  writeFrameHeader(f.data(), FrameHeader{type, flags, channel, static_cast<std::uint32_t>(payload.size())});
  if (!payload.empty()) std::memcpy(f.data() + kFrameHeaderSize, payload.data(), payload.size());
  return f;
}

FrameDecoder::FrameDecoder(std::uint32_t maxPayload) : maxPayload_(std::min(maxPayload, kHardMaxPayload)) {}

void FrameDecoder::setMaxPayload(std::uint32_t maxPayload) { maxPayload_ = std::min(maxPayload, kHardMaxPayload); }

std::size_t FrameDecoder::feed(std::span<const std::uint8_t> bytes) {
  std::size_t used = 0;
  while (state_ == State::NeedMore && used < bytes.size()) {
    if (headHave_ < kFrameHeaderSize) {
      if (headHave_ == 0) frameStart_ = consumed_ + used;
      const std::size_t n = std::min(kFrameHeaderSize - headHave_, bytes.size() - used);
      std::memcpy(head_.data() + headHave_, bytes.data() + used, n);
      headHave_ += n;
      used += n;
      if (headHave_ < kFrameHeaderSize) break;
      if (auto err = checkFrameHeader(std::span<const std::uint8_t, kFrameHeaderSize>(head_), maxPayload_,
                                      frameStart_, header_)) {
        error_ = std::move(*err);
        state_ = State::Error;
        break;
      }
      // Grows only up to the checked length; the buffer is kept for later frames.
      if (payload_.size() < header_.length) payload_.resize(header_.length);
      payloadHave_ = 0;
      if (header_.length == 0) {
        state_ = State::Frame;
        break;
      }
      continue;
    }
    const std::size_t n = std::min<std::size_t>(header_.length - payloadHave_, bytes.size() - used);
    std::memcpy(payload_.data() + payloadHave_, bytes.data() + used, n);
    payloadHave_ += n;
    used += n;
    if (payloadHave_ == header_.length) state_ = State::Frame;
  }
  consumed_ += used;
  return used;
}

void FrameDecoder::next() {
  if (state_ != State::Frame) return;
  state_ = State::NeedMore;
  headHave_ = 0;
  payloadHave_ = 0;
}

std::vector<std::uint8_t> encodeHello(const Hello& h) {
  std::vector<std::uint8_t> out;
  out.push_back(h.version);
  putName(out, h.clusterId);
  putName(out, h.nodeName);
  out.insert(out.end(), h.nonce.begin(), h.nonce.end());
  return out;
}

std::vector<std::uint8_t> encodeChallenge(const Challenge& c) {
  std::vector<std::uint8_t> out(c.nonce.begin(), c.nonce.end());
  out.insert(out.end(), c.proof.begin(), c.proof.end());
  putName(out, c.nodeName);
  return out;
}

std::vector<std::uint8_t> encodeAuth(const Auth& a) { return {a.proof.begin(), a.proof.end()}; }

std::vector<std::uint8_t> encodeCredit(std::uint32_t credits) {
  std::vector<std::uint8_t> out(4);
  put32(out.data(), credits);
  return out;
}

std::vector<std::uint8_t> encodeClose(const CloseReason& r) {
  const std::size_t n = std::min<std::size_t>(r.text.size(), kMaxControlPayload - 2);
  std::vector<std::uint8_t> out(2 + n);
  put16(out.data(), r.code);
  if (n) std::memcpy(out.data() + 2, r.text.data(), n);
  return out;
}

std::optional<Hello> parseHello(std::span<const std::uint8_t> p, std::string& error) {
  Cursor c{p, 0, error};
  Hello h;
  if (!c.take(&h.version, 1, "version") || !c.name(h.clusterId, "cluster id") || !c.name(h.nodeName, "node name") ||
      !c.take(h.nonce.data(), kNonceSize, "nonce") || !c.end())
    return std::nullopt;
  return h;
}

std::optional<Challenge> parseChallenge(std::span<const std::uint8_t> p, std::string& error) {
  Cursor c{p, 0, error};
  Challenge ch;
  if (!c.take(ch.nonce.data(), kNonceSize, "nonce") || !c.take(ch.proof.data(), kProofSize, "proof") ||
      !c.name(ch.nodeName, "node name") || !c.end())
    return std::nullopt;
  return ch;
}

std::optional<Auth> parseAuth(std::span<const std::uint8_t> p, std::string& error) {
  Cursor c{p, 0, error};
  Auth a;
  if (!c.take(a.proof.data(), kProofSize, "proof") || !c.end()) return std::nullopt;
  return a;
}

std::optional<std::uint32_t> parseCredit(std::span<const std::uint8_t> p, std::string& error) {
  Cursor c{p, 0, error};
  std::uint32_t credits = 0;
  if (!c.take(&credits, 4, "credits") || !c.end()) return std::nullopt;
  if (credits == 0) {
    c.fail("zero credits");
    return std::nullopt;
  }
  return credits;
}

std::optional<CloseReason> parseClose(std::span<const std::uint8_t> p, std::string& error) {
  Cursor c{p, 0, error};
  CloseReason r;
  if (!c.take(&r.code, 2, "close code")) return std::nullopt;
  r.text.assign(reinterpret_cast<const char*>(p.data() + 2), p.size() - 2);
  // Printable text only: the reason goes into logs.
  for (char& ch : r.text)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = '?';
  return r;
}

Nonce randomNonce() {
  Nonce n{};
  if (RAND_bytes(n.data(), static_cast<int>(n.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  return n;
}

Proof serverProof(std::string_view secret, std::string_view clusterId, const Nonce& client, const Nonce& server) {
  return hmacProof(secret, "weir/1 server", clusterId, client, server);
}

Proof clientProof(std::string_view secret, std::string_view clusterId, const Nonce& client, const Nonce& server) {
  return hmacProof(secret, "weir/1 client", clusterId, server, client);
}

bool proofEquals(const Proof& a, const Proof& b) { return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0; }

}  // namespace weir::net
