#pragma once
// The byte format of snapshots: what a checkpoint or savepoint writes of an operator's
// state, and reads back on restore (docs/fault-tolerance.md, "Snapshot format").
//
// Byte order is little-endian whatever the machine; integers have a fixed width; a string
// or a blob is a u32 length and its bytes. Nothing written is a process-local id or a
// pointer: keys are written as their encoded bytes (KeyDictionary's encoding), so a
// snapshot restores into another process, another machine, another parallelism.
//
// Errors: a reader that runs past its end or finds a bad tag throws SnapshotError naming
// what it was reading; restore turns that into a failed attempt with the file's name.

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace weir {

class SnapshotError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Appends to a byte string.
class ByteWriter {
 public:
  void u8(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { fixed(v, 4); }
  void u64(std::uint64_t v) { fixed(v, 8); }
  void i64(std::int64_t v) { fixed(static_cast<std::uint64_t>(v), 8); }
  void f64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, 8);
    fixed(bits, 8);
  }
  void boolean(bool v) { u8(v ? 1 : 0); }
  /// A u32 length, then the bytes.
  void bytes(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    buf_.append(s);
  }
  void str(std::string_view s) { bytes(s); }
  /// Raw bytes, no length (the caller knows it).
  void raw(std::string_view s) { buf_.append(s); }

  std::size_t size() const { return buf_.size(); }
  const std::string& data() const { return buf_; }
  std::string take() { return std::move(buf_); }
  /// Reserves a u32 to fill in later (a length known only after writing what follows).
  std::size_t placeholderU32() {
    const std::size_t at = buf_.size();
    u32(0);
    return at;
  }
  void patchU32(std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) buf_[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  }

 private:
  void fixed(std::uint64_t v, int width) {
    for (int i = 0; i < width; ++i) buf_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string buf_;
};

/// Reads what a ByteWriter wrote. `what` names the thing read in error messages
/// ("window 'per_auction' key group 17").
class ByteReader {
 public:
  explicit ByteReader(std::string_view data, std::string what = "snapshot")
      : data_(data), what_(std::move(what)) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(fixed(4)); }
  std::uint64_t u64() { return fixed(8); }
  std::int64_t i64() { return static_cast<std::int64_t>(fixed(8)); }
  double f64() {
    const std::uint64_t bits = fixed(8);
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  bool boolean() {
    const std::uint8_t b = u8();
    if (b > 1) fail("a boolean byte is " + std::to_string(b));
    return b == 1;
  }
  std::string_view bytes() {
    const std::uint32_t n = u32();
    return take(n);
  }
  std::string str() { return std::string(bytes()); }
  std::string_view raw(std::size_t n) { return take(n); }

  bool atEnd() const { return pos_ == data_.size(); }
  std::size_t position() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  const std::string& what() const { return what_; }
  /// Throws SnapshotError "<what>, byte <pos>: <message>".
  [[noreturn]] void fail(const std::string& message) const {
    throw SnapshotError(what_ + ", byte " + std::to_string(pos_) + ": " + message);
  }

 private:
  std::string_view take(std::size_t n) {
    if (n > data_.size() - pos_)
      fail("needs " + std::to_string(n) + " more bytes, " + std::to_string(data_.size() - pos_) + " left");
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::uint64_t fixed(int width) {
    std::string_view s = take(static_cast<std::size_t>(width));
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[static_cast<std::size_t>(i)])) << (8 * i);
    return v;
  }

  std::string_view data_;
  std::size_t pos_ = 0;
  std::string what_;
};

}  // namespace weir
