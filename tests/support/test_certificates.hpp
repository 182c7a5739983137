#pragma once
// Test support: a throwaway certificate authority with a server certificate for 127.0.0.1 and localhost and
// a client certificate, made with the `openssl` command at test time in a fresh temporary directory (never
// committed; removed by the destructor). For TLS between the executables and a real nats-server.
// Thread safety: none; one test thread owns a TestCertificates.

#include <string>
#include <vector>

namespace ovalstream::testing {

class TestCertificates {
 public:
  // True when an `openssl` executable was found (OVALSTREAM_OPENSSL, PATH, /usr/bin).
  static bool available();
  // A GTEST_SKIP() message for a missing openssl.
  static std::string unavailable_message();

  // Makes the CA, the server and the client certificates (EC P-256, valid for a day). Throws
  // std::runtime_error (with openssl's output) when openssl fails.
  TestCertificates();
  ~TestCertificates();
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  const std::string& dir() const noexcept { return dir_; }
  std::string ca_file() const { return dir_ + "/ca.pem"; }
  // Signed by the CA, for 127.0.0.1 and localhost (serverAuth).
  std::string server_cert_file() const { return dir_ + "/server.pem"; }
  std::string server_key_file() const { return dir_ + "/server.key"; }
  // Signed by the CA (clientAuth).
  std::string client_cert_file() const { return dir_ + "/client.pem"; }
  std::string client_key_file() const { return dir_ + "/client.key"; }
  // A second CA that signed nothing here: trusting it instead of ca_file() fails the handshake.
  std::string other_ca_file() const { return dir_ + "/other-ca.pem"; }

 private:
  void openssl(const std::vector<std::string>& args) const;

  std::string executable_;
  std::string dir_;
};

}  // namespace ovalstream::testing
