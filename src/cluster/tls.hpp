#pragma once
// TLS between the nodes: gRPC credentials made from PEM files. Nothing set: plain TCP.

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

namespace chaperon::cluster {

// The master's: its certificate and key; with `ca`, every peer must present a certificate
// signed by it, and the handshake verifies it. Throws chaperon::error naming a file that cannot
// be read, or a certificate without its key (or the reverse), or a CA without a certificate.
std::shared_ptr<grpc::ServerCredentials> server_credentials(const std::string& cert,
                                                            const std::string& key,
                                                            const std::string& ca);
// A worker's or client's: `ca` verifies the master (none: the system's roots); cert and key are
// its own, for a master that asks for one. Throws chaperon::error as above.
std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const std::string& ca,
                                                              const std::string& cert,
                                                              const std::string& key);

}  // namespace chaperon::cluster
