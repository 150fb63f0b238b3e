// TLS contexts and the Stream (net/tls.h, net/tls_stream.h).

#include "net/tls_stream.h"

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>

#include "net/transport.h"

namespace weir::net {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using boost::system::error_code;

namespace {

void requireReadable(const std::string& file, const char* flag) {
  std::ifstream in(file);
  if (!in) throw NetworkError(std::string(flag) + " " + file + ": cannot read the file");
}

/// Loads one PEM item into the context, naming the flag and file when it fails.
template <typename Load>
void load(const std::string& file, const char* flag, const char* what, Load f) {
  requireReadable(file, flag);
  error_code ec;
  f(ec);
  if (ec) throw NetworkError(std::string(flag) + " " + file + ": not a usable " + what + " (" + ec.message() + ")");
}

std::shared_ptr<ssl::context> baseContext(TlsRole role) {
  auto ctx = std::make_shared<ssl::context>(role == TlsRole::Server ? ssl::context::tls_server
                                                                    : ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  return ctx;
}

void loadIdentity(ssl::context& ctx, const TlsFiles& files) {
  if (files.cert.empty() || files.key.empty())
    throw NetworkError("TLS needs --tls-cert and --tls-key (and --tls-ca)");
  load(files.cert, "--tls-cert", "PEM certificate",
       [&](error_code& ec) { ctx.use_certificate_chain_file(files.cert, ec); });
  load(files.key, "--tls-key", "PEM private key",
       [&](error_code& ec) { ctx.use_private_key_file(files.key, ssl::context::pem, ec); });
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    ERR_clear_error();
    throw NetworkError("--tls-key " + files.key + " does not belong to the certificate in --tls-cert " + files.cert);
  }
}

}  // namespace

std::shared_ptr<ssl::context> makeDaemonTlsContext(const TlsFiles& files, TlsRole role) {
  if (files.cert.empty() || files.key.empty() || files.ca.empty())
    throw NetworkError("TLS needs all three of --tls-cert, --tls-key and --tls-ca");
  auto ctx = baseContext(role);
  loadIdentity(*ctx, files);
  load(files.ca, "--tls-ca", "PEM CA certificate", [&](error_code& ec) { ctx->load_verify_file(files.ca, ec); });
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

std::shared_ptr<ssl::context> makeApiServerTlsContext(const TlsFiles& files) {
  auto ctx = baseContext(TlsRole::Server);
  loadIdentity(*ctx, files);
  ctx->set_verify_mode(ssl::verify_none);
  return ctx;
}

std::shared_ptr<ssl::context> makeApiClientTlsContext(const std::string& caFile) {
  auto ctx = baseContext(TlsRole::Client);
  if (caFile.empty()) {
    error_code ec;
    ctx->set_default_verify_paths(ec);
    if (ec) throw NetworkError("cannot load the system's CA certificates: " + ec.message());
  } else {
    load(caFile, "--tls-ca", "PEM CA certificate", [&](error_code& ec) { ctx->load_verify_file(caFile, ec); });
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

void expectServerName(SSL* ssl, const std::string& host) {
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!ec) {
    // An address: matched against the certificate's IP subjectAltNames.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, address.to_string().c_str()) != 1)
      throw NetworkError("TLS: cannot expect address " + host);
    return;
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1)
    throw NetworkError("TLS: cannot expect host name " + host);
  SSL_set_tlsext_host_name(ssl, host.c_str());
}

bool peerHungUp(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset || ec == ssl::error::stream_truncated ||
         ec == asio::error::broken_pipe;
}

std::string readFailure(const error_code& ec) {
  if (peerHungUp(ec)) return "peer closed the connection";
  if (ec.category() == asio::error::get_ssl_category()) return "TLS: " + ec.message();
  return "read failed: " + ec.message();
}

std::string tlsFailure(const error_code& ec, SSL* ssl) {
  if (peerHungUp(ec)) return "the peer closed the connection during the TLS handshake (does it run without TLS?)";
  std::string why = ec.message();
  if (ssl) {
    const long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK) why += ": " + std::string(X509_verify_cert_error_string(v));
  }
  return why;
}

// ---- Stream ------------------------------------------------------------------------------

Stream::Stream(tcp::socket socket, std::shared_ptr<ssl::context> tls) : ctx_(std::move(tls)) {
  if (ctx_) tls_ = std::make_unique<ssl::stream<tcp::socket>>(std::move(socket), *ctx_);
  else plain_.emplace(std::move(socket));
}

Stream::awaitable<std::string> Stream::handshake(TlsRole role) {
  error_code ec;
  if (role == TlsRole::Server) {
    // Peek (not consume) at the first byte: the TLS handshake reads it again.
    unsigned char first = 0;
    const asio::mutable_buffer peek = asio::buffer(&first, 1);
    co_await socket().async_receive(peek, tcp::socket::message_peek, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      hungUp_ = peerHungUp(ec);
      co_return hungUp_ ? "peer closed the connection" : "read failed: " + ec.message();
    }
    const bool tlsHello = first == kTlsHandshakeByte;
    if (!ctx_) {
      if (tlsHello)
        co_return "the peer started a TLS handshake, but TLS is off here (give this side --tls-cert, --tls-key "
                  "and --tls-ca, or the peer none)";
      co_return "";
    }
    if (!tlsHello) {
      plainPeer_ = true;
      co_return "a plain (non-TLS) connection, but TLS is required here (the peer needs --tls-cert, --tls-key "
                "and --tls-ca)";
    }
    co_await tls_->async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  } else {
    if (!ctx_) co_return "";
    co_await tls_->async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    hungUp_ = peerHungUp(ec);
    co_return "TLS handshake failed: " + tlsFailure(ec, tls_->native_handle());
  }
  active_ = true;
  co_return "";
}

std::string Stream::describe() const {
  if (!active_) return "plain";
  SSL* ssl = tls_->native_handle();
  std::string s = SSL_get_version(ssl);
  if (X509* peer = SSL_get1_peer_certificate(ssl)) {
    char cn[256] = {0};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn - 1) > 0)
      s += ", peer CN=" + std::string(cn);
    X509_free(peer);
  }
  return s;
}

void Stream::close() {
  error_code ec;
  socket().shutdown(tcp::socket::shutdown_both, ec);
  socket().close(ec);
}

std::string checkTlsFiles(const TlsFiles& files) {
  if (!files.enabled()) return "";
  try {
    makeDaemonTlsContext(files, TlsRole::Server);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace weir::net
