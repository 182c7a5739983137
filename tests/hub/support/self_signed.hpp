#pragma once
// A self-signed certificate for "localhost"/127.0.0.1, generated at test time with the OpenSSL C API.

#include <utility>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace ovalstream::hub::testing {

struct SelfSigned {
  std::string certificate_pem;
  std::string private_key_pem;
};

SelfSigned make_self_signed_certificate();

// A TLS server context serving a fresh self-signed certificate.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context();

}  // namespace ovalstream::hub::testing
