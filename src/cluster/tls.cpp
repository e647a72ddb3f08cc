#include "cluster/tls.hpp"

#include <fstream>
#include <sstream>

#include <grpcpp/security/server_credentials.h>

#include "chaperon/error.hpp"

namespace chaperon::cluster {

namespace {

std::string read_pem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || text.str().empty()) {
    throw error(std::string("cluster TLS: cannot read the ") + what + " file " + path);
  }
  return text.str();
}

void check_pair(const std::string& cert, const std::string& key) {
  if (cert.empty() != key.empty()) {
    throw error("cluster TLS: a certificate (" + (cert.empty() ? "none" : cert) + ") needs its " +
                "key (" + (key.empty() ? "none" : key) + ") and the reverse");
  }
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> server_credentials(const std::string& cert,
                                                            const std::string& key,
                                                            const std::string& ca) {
  check_pair(cert, key);
  if (cert.empty()) {
    if (!ca.empty()) throw error("cluster TLS: the CA " + ca + " needs a certificate and key too");
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions options(
      ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                 : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!ca.empty()) options.pem_root_certs = read_pem(ca, "CA certificate");
  options.pem_key_cert_pairs.push_back({read_pem(key, "private key"), read_pem(cert, "certificate")});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const std::string& ca,
                                                              const std::string& cert,
                                                              const std::string& key) {
  check_pair(cert, key);
  if (ca.empty() && cert.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  if (!ca.empty()) options.pem_root_certs = read_pem(ca, "CA certificate");
  if (!cert.empty()) {
    options.pem_private_key = read_pem(key, "private key");
    options.pem_cert_chain = read_pem(cert, "certificate");
  }
  return grpc::SslCredentials(options);
}

}  // namespace chaperon::cluster
