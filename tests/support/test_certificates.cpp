#include "support/test_certificates.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "support/child_process.hpp"

namespace ovalstream::testing {
namespace {

std::string find_openssl() {
  if (const char* explicit_path = std::getenv("OVALSTREAM_OPENSSL"); explicit_path && *explicit_path) {
    return ::access(explicit_path, X_OK) == 0 ? explicit_path : "";
  }
  std::vector<std::string> candidates;
  if (const char* path = std::getenv("PATH")) {
    std::string entries = path;
    std::size_t start = 0;
    while (start <= entries.size()) {
      const std::size_t end = std::min(entries.find(':', start), entries.size());
      if (end > start) candidates.push_back(entries.substr(start, end - start) + "/openssl");
      start = end + 1;
    }
  }
  candidates.emplace_back("/usr/bin/openssl");
  for (const auto& candidate : candidates) {
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

bool TestCertificates::available() {
  return !find_openssl().empty();
}

std::string TestCertificates::unavailable_message() {
  return "openssl not found (install it or set OVALSTREAM_OPENSSL): skipping a test that makes TLS "
         "certificates";
}

TestCertificates::TestCertificates() : executable_(find_openssl()) {
  if (executable_.empty()) throw std::runtime_error(unavailable_message());
  dir_ = make_temp_dir("ovalstream-certs");
  try {
    const std::vector<std::string> ec_key{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"};
    auto request = [&](const std::string& name, const std::string& subject) {
      std::vector<std::string> args{"req"};
      args.insert(args.end(), ec_key.begin(), ec_key.end());
      args.insert(args.end(), {"-keyout", dir_ + "/" + name + ".key", "-out", dir_ + "/" + name + ".csr",
                               "-subj", subject});
      openssl(args);
    };
    auto sign = [&](const std::string& name, const std::string& extensions) {
      write_file(dir_ + "/" + name + ".ext", extensions);
      openssl({"x509", "-req", "-in", dir_ + "/" + name + ".csr", "-CA", ca_file(), "-CAkey",
               dir_ + "/ca.key", "-CAcreateserial", "-out", dir_ + "/" + name + ".pem", "-days", "1",
               "-extfile", dir_ + "/" + name + ".ext"});
    };
    for (const std::string ca : {"ca", "other-ca"}) {
      std::vector<std::string> args{"req", "-x509"};
      args.insert(args.end(), ec_key.begin(), ec_key.end());
      args.insert(args.end(), {"-keyout", dir_ + "/" + ca + ".key", "-out", dir_ + "/" + ca + ".pem", "-days",
                               "1", "-subj", "/CN=ovalstream test " + ca});
      openssl(args);
    }
    request("server", "/CN=localhost");
    sign("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    request("client", "/CN=ovalstream-test-client");
    sign("client", "extendedKeyUsage=clientAuth\n");
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

TestCertificates::~TestCertificates() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void TestCertificates::openssl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{executable_};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string log = dir_ + "/openssl.log";
  const pid_t pid = spawn_child(argv, log);
  const std::optional<int> code = reap_child(pid, std::chrono::seconds(30));
  if (!code) {
    ::kill(pid, SIGKILL);
    (void)reap_child(pid, std::chrono::seconds(5));
  }
  if (code != 0) {
    std::ifstream in(log);
    const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    throw std::runtime_error("openssl " + args.front() + " failed (" +
                             (code ? "exit " + std::to_string(*code) : std::string("timed out")) +
                             "): " + output);
  }
}

}  // namespace ovalstream::testing
