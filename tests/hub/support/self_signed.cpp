#include "hub/support/self_signed.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace ovalstream::hub::testing {

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* pointer) const { Free(pointer); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("self-signed certificate: ") + what);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

SelfSigned make_self_signed_certificate() {
  KeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  CertPtr certificate(X509_new());
  check(certificate != nullptr, "X509_new");
  X509_set_version(certificate.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 24 * 3600);
  X509_set_pubkey(certificate.get(), key.get());
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"),
                             -1, -1, 0);
  X509_set_issuer_name(certificate.get(), name);
  ExtPtr alt_names(X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"));
  check(alt_names != nullptr, "subjectAltName");
  X509_add_ext(certificate.get(), alt_names.get(), -1);
  check(X509_sign(certificate.get(), key.get(), EVP_sha256()) > 0, "X509_sign");

  SelfSigned result;
  BioPtr certificate_bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(certificate_bio.get(), certificate.get()) == 1, "PEM_write_bio_X509");
  result.certificate_pem = bio_text(certificate_bio.get());
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  result.private_key_pem = bio_text(key_bio.get());
  return result;
}

std::shared_ptr<boost::asio::ssl::context> make_server_tls_context() {
  const SelfSigned self_signed = make_self_signed_certificate();
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  context->set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                       boost::asio::ssl::context::no_sslv3);
  context->use_certificate_chain(
      boost::asio::buffer(self_signed.certificate_pem.data(), self_signed.certificate_pem.size()));
  context->use_private_key(
      boost::asio::buffer(self_signed.private_key_pem.data(), self_signed.private_key_pem.size()),
      boost::asio::ssl::context::pem);
  return context;
}

}  // namespace ovalstream::hub::testing
