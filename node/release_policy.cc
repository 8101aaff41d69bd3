#include "node/release_policy.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/algorithm_reference.h"

namespace spoor {
namespace {

bool Lists(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

bool AdmitsAlgorithm(const std::vector<std::string>& allowed, const v1::Task& task) {
  if (allowed.empty() || Lists(allowed, task.algorithm())) return true;
  if (!IsContainerReference(task.algorithm())) return false;
  const std::string name = task.algorithm().substr(0, task.algorithm().find('@'));
  return Lists(allowed, name) ||
         (!task.algorithm_digest().empty() && Lists(allowed, task.algorithm_digest()));
}

// SHA-256 over a sequence of fields, each length-prefixed so that no two
// different frames feed it the same bytes.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
  }
  void Bytes(const void* data, size_t size) {
    if (ok_ && size > 0) ok_ = EVP_DigestUpdate(ctx_.get(), data, size) == 1;
  }
  void Integer(uint64_t value) { Bytes(&value, sizeof(value)); }
  void Text(const std::string& text) {
    Integer(text.size());
    Bytes(text.data(), text.size());
  }
  // "sha256:" and the hex digest; "" if OpenSSL failed (out of memory).
  std::string Finish() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), digest, &size) != 1) return "";
    return absl::StrCat("sha256:", absl::BytesToHexString(
                                       absl::string_view(reinterpret_cast<char*>(digest), size)));
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
  bool ok_ = false;
};

}  // namespace

std::optional<GateRefusal> CheckNodePolicy(const NodePolicy& policy, const v1::Task& task) {
  if (!policy.studies.empty() && !Lists(policy.studies, task.study())) {
    if (task.study().empty()) {
      return GateRefusal{"node_policy",
                         "this node takes part only in the studies its operator lists, and this "
                         "task names no study"};
    }
    return GateRefusal{"node_policy",
                       absl::StrCat("this node does not take part in study '", task.study(), "'")};
  }
  if (!policy.researchers.empty() && !Lists(policy.researchers, task.requester().name())) {
    return GateRefusal{"node_policy",
                       absl::StrCat("this node does not take tasks from researcher '",
                                    task.requester().name(), "'")};
  }
  if (!AdmitsAlgorithm(policy.algorithms, task)) {
    return GateRefusal{"node_policy",
                       absl::StrCat("this node does not run algorithm '", task.algorithm(), "'")};
  }
  return std::nullopt;
}

absl::StatusOr<std::string> FrameDigest(const DataFrame& frame) {
  Sha256 hash;
  hash.Integer(frame.num_rows());
  hash.Integer(frame.num_columns());
  for (const Column& column : frame.columns()) {
    hash.Text(column.name());
    if (column.type() == ColumnType::kNumeric) {
      hash.Integer(0);
      hash.Bytes(column.numbers().data(), column.numbers().size() * sizeof(double));
    } else {
      hash.Integer(1);
      hash.Integer(column.levels().size());
      for (const std::string& level : column.levels()) hash.Text(level);
      hash.Bytes(column.codes().data(), column.codes().size() * sizeof(int32_t));
    }
  }
  std::string digest = hash.Finish();
  if (digest.empty()) {
    return absl::InternalError("the node could not compute its dataset's data version (SHA-256)");
  }
  return digest;
}

RowSubset SubsetOfRows(size_t num_rows, const std::vector<size_t>& rows) {
  RowSubset subset(static_cast<int64_t>(num_rows));
  for (size_t row : rows) subset.Set(static_cast<int64_t>(row));
  return subset;
}

RowSubset AllRows(size_t num_rows) {
  RowSubset subset(static_cast<int64_t>(num_rows));
  for (size_t row = 0; row < num_rows; ++row) subset.Set(static_cast<int64_t>(row));
  return subset;
}

}  // namespace spoor
