// A container algorithm that misbehaves on purpose, for the refusal tests
// (label container): parameter `mode` picks how.
//   network   opens a TCP connection to the host
//   memory    allocates and touches memory without bound
//   fork      forks without bound, keeping every child alive
//   sleep     never answers
//   rowlevel  answers with the column's values themselves
//   garbage   writes a response that is not a message
// Any other mode (or none) answers like colmean on the first numeric column.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "sdk/spoor_sdk.h"

namespace {

namespace v1 = spoor::v1;

class Misbehave final : public spoor::Algorithm {
 public:
  const char* name() const override { return "misbehave"; }
  absl::Status ValidateParameters(const v1::Parameters&) const override { return absl::OkStatus(); }

  absl::StatusOr<v1::Aggregate> Local(const spoor::LocalRequest& request) const override {
    absl::StatusOr<std::string> mode = spoor::GetText(request.parameters, "mode");
    std::string how = mode.ok() ? *mode : "";
    if (how == "network") {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(80);
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (fd >= 0) connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    } else if (how == "memory") {
      for (;;) {
        char* chunk = static_cast<char*>(std::malloc(16 << 20));
        if (chunk == nullptr) break;
        std::memset(chunk, 1, 16 << 20);
      }
    } else if (how == "fork") {
      for (;;) {
        if (fork() == 0) pause();
      }
    } else if (how == "sleep") {
      for (;;) pause();
    } else if (how == "garbage") {
      std::ofstream("/io/response.pb") << "this is not a protobuf message\xff\xff\xff";
      std::_Exit(0);
    }
    const spoor::Column* column = nullptr;
    for (const spoor::Column& c : request.frame.columns()) {
      if (c.type() == spoor::ColumnType::kNumeric) {
        column = &c;
        break;
      }
    }
    if (column == nullptr) return absl::InvalidArgumentError("no numeric variable");
    v1::Aggregate aggregate;
    v1::Block* block = aggregate.add_blocks();
    block->set_name(column->name());
    block->set_record_count(static_cast<int64_t>(column->size()));
    if (how == "rowlevel") {
      for (double x : column->numbers()) block->mutable_vector()->add_values(x);
    } else {
      double sum = 0;
      for (double x : column->numbers()) sum += std::isnan(x) ? 0 : x;
      block->mutable_vector()->add_values(sum);
    }
    return aggregate;
  }

  absl::StatusOr<spoor::CentralStep> Central(const spoor::CentralRequest& request) const override {
    spoor::CentralStep step;
    step.done = true;
    double sum = 0;
    for (const spoor::NodeAggregate& node : request.aggregates) {
      for (const v1::Block& block : node.aggregate.blocks()) {
        for (double x : block.vector().values()) sum += x;
      }
    }
    spoor::SetNumber(*step.result.mutable_container()->mutable_values(), "sum", sum);
    return step;
  }
};

}  // namespace

int main(int argc, char** argv) { return spoor::sdk::Main(argc, argv, Misbehave()); }
