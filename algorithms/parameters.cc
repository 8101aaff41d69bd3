// The parameter helpers of algorithm.h: no algorithm, no I/O, so that the
// container SDK (sdk/) links them without the rest of the library.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "algorithms/algorithm.h"

namespace spoor {

absl::StatusOr<std::vector<std::string>> GetTextList(const v1::Parameters& parameters,
                                                     std::string_view key) {
  auto it = parameters.values().find(std::string(key));
  if (it == parameters.values().end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", std::string(key), "' is required"));
  }
  const v1::Value& value = it->second;
  if (value.has_texts()) {
    return std::vector<std::string>(value.texts().values().begin(), value.texts().values().end());
  }
  if (value.has_text()) return std::vector<std::string>{value.text()};
  return absl::InvalidArgumentError(
      absl::StrCat("parameter '", std::string(key), "' must be a list of names"));
}

void SetTextList(v1::Parameters& parameters, std::string_view key,
                 const std::vector<std::string>& values) {
  v1::TextList* list = (*parameters.mutable_values())[std::string(key)].mutable_texts();
  list->clear_values();
  for (const std::string& v : values) list->add_values(v);
}

const v1::Value* FindParameter(const v1::Parameters& parameters, std::string_view key) {
  auto it = parameters.values().find(std::string(key));
  return it == parameters.values().end() ? nullptr : &it->second;
}

absl::StatusOr<std::string> GetText(const v1::Parameters& parameters, std::string_view key) {
  const v1::Value* value = FindParameter(parameters, key);
  if (value == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", std::string(key), "' is required"));
  }
  if (value->has_text()) return value->text();
  if (value->has_texts() && value->texts().values_size() == 1) return value->texts().values(0);
  return absl::InvalidArgumentError(
      absl::StrCat("parameter '", std::string(key), "' must be one text"));
}

absl::StatusOr<double> GetNumber(const v1::Parameters& parameters, std::string_view key,
                                 double fallback) {
  const v1::Value* value = FindParameter(parameters, key);
  if (value == nullptr) return fallback;
  if (value->has_number()) return value->number();
  if (value->has_integer()) return static_cast<double>(value->integer());
  return absl::InvalidArgumentError(
      absl::StrCat("parameter '", std::string(key), "' must be a number"));
}

absl::StatusOr<std::vector<double>> GetNumbers(const v1::Parameters& parameters,
                                               std::string_view key) {
  const v1::Value* value = FindParameter(parameters, key);
  if (value == nullptr || !value->has_numbers()) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", std::string(key), "' must be a list of numbers"));
  }
  return std::vector<double>(value->numbers().values().begin(), value->numbers().values().end());
}

void SetText(v1::Parameters& parameters, std::string_view key, std::string value) {
  (*parameters.mutable_values())[std::string(key)].set_text(std::move(value));
}

void SetNumber(v1::Parameters& parameters, std::string_view key, double value) {
  (*parameters.mutable_values())[std::string(key)].set_number(value);
}

void SetNumbers(v1::Parameters& parameters, std::string_view key,
                const std::vector<double>& values) {
  v1::NumberList* list = (*parameters.mutable_values())[std::string(key)].mutable_numbers();
  list->clear_values();
  for (double v : values) list->add_values(v);
}

}  // namespace spoor
