#pragma once
// TLS on Boost.Asio SSL for the daemons' own connections (net/tls.h has the settings;
// docs/protocol.md, "TLS", the rules). Includes Asio SSL and OpenSSL: for .cpp files
// (and control.h, which only the daemons include) only.
//
// A Stream is one TCP connection, with or without TLS as its side is configured. Its
// first step is handshake(): a server peeks at the peer's first byte, so that a plain
// peer on a TLS listener and a TLS peer on a plain listener are told apart from a broken
// one and refused with a reason that says what to change; then the TLS handshake runs.
// After it, readSome/write go through TLS or straight to the socket.
//
// Threading: as an Asio socket: one read and one write in flight at a time, from the
// socket's executor (one thread).

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/tls.h"

namespace weir::net {

/// Which end of a connection a context or a handshake is for.
enum class TlsRole { Server, Client };

/// A context for connections between daemons (control and data plane): this node's
/// certificate and key, the CA file as the only trust anchor, TLS 1.2 or later, and the
/// peer's certificate required and verified against the CA in both roles (mutual TLS).
/// Host names are not checked between daemons: a certificate of the cluster's CA is the
/// proof (docs/operations.md). Throws NetworkError (net/transport.h) naming the file.
std::shared_ptr<boost::asio::ssl::context> makeDaemonTlsContext(const TlsFiles& files, TlsRole role);

/// The JobManager's HTTP API: its certificate and key; clients present none (they
/// authenticate with the bearer token). Throws NetworkError.
std::shared_ptr<boost::asio::ssl::context> makeApiServerTlsContext(const TlsFiles& files);

/// An API client's context: the server's certificate must chain to `caFile` (PEM), or to
/// the system's CAs when `caFile` is empty. Throws NetworkError.
std::shared_ptr<boost::asio::ssl::context> makeApiClientTlsContext(const std::string& caFile);

/// On a client's SSL object, before its handshake: the server's certificate must carry
/// `host` (a DNS name, or an IP address in its subjectAltName); sets SNI for names.
void expectServerName(SSL* ssl, const std::string& host);

/// Why a TLS handshake failed, for logs: OpenSSL's reason, with the certificate
/// verification result when that is what failed ("certificate verify failed: unable to
/// get local issuer certificate"), and a hint when the peer simply hung up.
std::string tlsFailure(const boost::system::error_code& ec, SSL* ssl);

/// The first byte of a TLS record carrying a handshake (ClientHello): what a server sees
/// first from a TLS client. A weir frame starts with 'W', an HTTP request with a letter.
inline constexpr unsigned char kTlsHandshakeByte = 0x16;

/// What a TLS daemon sends a plain peer in its REJECT frame (in plain: it is the only
/// thing that peer can read).
inline constexpr const char* kTlsRequiredText =
    "TLS is required by this node: start the connecting side with --tls-cert, --tls-key and --tls-ca";

class Stream {
 public:
  using tcp = boost::asio::ip::tcp;
  using error_code = boost::system::error_code;
  template <typename T>
  using awaitable = boost::asio::awaitable<T>;

  /// `tls` null: plain TCP.
  Stream(tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls);
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  /// The TCP socket (under TLS, its lowest layer): endpoints, options, close().
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  bool tlsConfigured() const { return ctx_ != nullptr; }

  /// The first step on a connection (server or client side), "" when the peer may go on,
  /// else why not. A plain server refuses a peer that starts a TLS handshake; a TLS server
  /// refuses a plain peer and then leaves the stream plain (plainPeer() is true), so that
  /// the caller can tell that peer why in a frame it reads (kTlsRequiredText).
  awaitable<std::string> handshake(TlsRole role);
  bool plainPeer() const { return plainPeer_; }
  /// The handshake failed because the peer closed the connection (it went away, rather
  /// than refused this side).
  bool hungUp() const { return hungUp_; }
  /// "TLSv1.3, peer CN=..." once TLS is up, else "plain".
  std::string describe() const;

  /// Reads what is there (at least one byte).
  awaitable<std::size_t> readSome(boost::asio::mutable_buffer buffer, error_code& ec) {
    if (active_) co_return co_await tls_->async_read_some(buffer, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    co_return co_await socket().async_read_some(buffer, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  /// Writes all of `buffers` (a sequence of const buffers). Under TLS a sequence of many
  /// is copied into one buffer first: SSL writes one buffer per record.
  template <typename ConstBuffers>
  awaitable<std::size_t> write(const ConstBuffers& buffers, error_code& ec) {
    namespace asio = boost::asio;
    if (!active_) co_return co_await asio::async_write(socket(), buffers, asio::redirect_error(asio::use_awaitable, ec));
    const auto begin = asio::buffer_sequence_begin(buffers), end = asio::buffer_sequence_end(buffers);
    if (begin == end || std::next(begin) == end) {
      co_return co_await asio::async_write(*tls_, buffers, asio::redirect_error(asio::use_awaitable, ec));
    }
    scratch_.resize(asio::buffer_size(buffers));
    asio::buffer_copy(asio::buffer(scratch_), buffers);
    const asio::const_buffer one = asio::buffer(scratch_);
    co_return co_await asio::async_write(*tls_, one, asio::redirect_error(asio::use_awaitable, ec));
  }

  /// Shuts the TCP socket down and closes it (no TLS close_notify: frames say goodbye);
  /// pending operations end with an error. Idempotent.
  void close();

 private:
  std::shared_ptr<boost::asio::ssl::context> ctx_;
  std::optional<tcp::socket> plain_;                                // without TLS
  std::unique_ptr<boost::asio::ssl::stream<tcp::socket>> tls_;     // with TLS
  bool active_ = false;     // TLS is up: reads and writes go through it
  bool plainPeer_ = false;  // a TLS server found a plain peer
  bool hungUp_ = false;     // the handshake failed because the peer closed the connection
  std::vector<std::uint8_t> scratch_;
};

/// Whether `ec` means the peer hung up (EOF, reset, or a TLS stream cut without
/// close_notify), as opposed to a real failure.
bool peerHungUp(const boost::system::error_code& ec);

/// Why a read failed, for logs: "peer closed the connection", a TLS alert from the peer
/// ("TLS: tlsv1 alert unknown ca": under TLS 1.3 a server refuses a client's certificate
/// after the client's handshake has finished), or the error.
std::string readFailure(const boost::system::error_code& ec);

}  // namespace weir::net
