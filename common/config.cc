#include "common/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"

namespace spoor {
namespace {

// Debian's Abseil is built with its own absl::string_view, which does not
// convert from std::string_view; hence the std::string(...) around views
// passed to absl::StrCat and absl::FormatTime.

// "a string", "an integer", ...: the article makes messages read naturally
// ("must be a string, found an integer").
std::string DescribeType(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

int LineOfNode(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

// A typo such as "min_record" is spotted faster with a suggestion than in a
// long list of known keys. Plain Levenshtein distance; keys are short.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Describes the accepted range the way an operator would say it, so the
// unbounded ends of int64 never show up as 19-digit numbers.
std::string DescribeRange(int64_t min, int64_t max) {
  constexpr int64_t kLowest = std::numeric_limits<int64_t>::min();
  constexpr int64_t kHighest = std::numeric_limits<int64_t>::max();
  if (min == kLowest && max == kHighest) return "an integer";
  if (max == kHighest) return absl::StrCat("an integer >= ", min);
  if (min == kLowest) return absl::StrCat("an integer <= ", max);
  return absl::StrCat("an integer between ", min, " and ", max);
}

// Builds "FILE:LINE: message", or "FILE: message" when the line is unknown.
absl::Status ConfigError(const std::string& file, int line, std::string_view message) {
  if (line > 0) {
    return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", std::string(message)));
  }
  return absl::InvalidArgumentError(absl::StrCat(file, ": ", std::string(message)));
}

}  // namespace

std::string ConfigTable::KeyPath(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return absl::StrCat(path_, ".", std::string(key));
}

const toml::node* ConfigTable::Find(std::string_view key) const {
  if (table_ == nullptr) return nullptr;
  return table_->get(key);
}

int ConfigTable::LineOf(std::string_view key) const {
  if (const toml::node* node = Find(key); node != nullptr) return LineOfNode(*node);
  if (table_ != nullptr) return LineOfNode(*table_);
  return line_;
}

absl::Status ConfigTable::TypeError(std::string_view key, std::string_view expected,
                                    const toml::node& found) const {
  return ConfigError(file_, LineOfNode(found),
                     absl::StrCat("key '", KeyPath(key), "' must be ", std::string(expected),
                                  ", found ", DescribeType(found)));
}

absl::StatusOr<std::string> ConfigTable::RequiredString(std::string_view key) const {
  const toml::node* node = Find(key);
  if (node == nullptr) {
    std::string where = path_.empty() ? "" : absl::StrCat(" in [", path_, "]");
    return ConfigError(file_, LineOf(key),
                       absl::StrCat("missing required key '", KeyPath(key), "'", where));
  }
  const toml::value<std::string>* value = node->as_string();
  if (value == nullptr) return TypeError(key, "a string", *node);
  // An empty required value is almost always a placeholder left unfilled;
  // failing here beats failing later with a confusing "file '' not found".
  if (value->get().empty()) {
    return ConfigError(file_, LineOfNode(*node),
                       absl::StrCat("key '", KeyPath(key), "' must not be empty"));
  }
  return value->get();
}

absl::StatusOr<std::string> ConfigTable::OptionalString(std::string_view key,
                                                        std::string fallback) const {
  const toml::node* node = Find(key);
  if (node == nullptr) return fallback;
  const toml::value<std::string>* value = node->as_string();
  if (value == nullptr) return TypeError(key, "a string", *node);
  return value->get();
}

absl::StatusOr<int64_t> ConfigTable::OptionalInteger(std::string_view key, int64_t fallback,
                                                     int64_t min, int64_t max) const {
  const toml::node* node = Find(key);
  if (node == nullptr) return fallback;
  const toml::value<int64_t>* value = node->as_integer();
  if (value == nullptr) return TypeError(key, DescribeRange(min, max), *node);
  int64_t n = value->get();
  if (n < min || n > max) {
    return ConfigError(
        file_, LineOfNode(*node),
        absl::StrCat("key '", KeyPath(key), "' must be ", DescribeRange(min, max), ", found ", n));
  }
  return n;
}

absl::StatusOr<double> ConfigTable::OptionalDouble(std::string_view key, double fallback) const {
  const toml::node* node = Find(key);
  if (node == nullptr) return fallback;
  double d = 0;
  if (const toml::value<double>* value = node->as_floating_point(); value != nullptr) {
    d = value->get();
  } else if (const toml::value<int64_t>* value = node->as_integer(); value != nullptr) {
    // "epsilon = 1" is a natural way to write 1.0.
    d = static_cast<double>(value->get());
  } else {
    return TypeError(key, "a number", *node);
  }
  // TOML accepts nan and inf; no spoor setting means either.
  if (!std::isfinite(d)) {
    return ConfigError(file_, LineOfNode(*node),
                       absl::StrCat("key '", KeyPath(key), "' must be a finite number, found ",
                                    std::isnan(d) ? "nan" : "inf"));
  }
  return d;
}

absl::StatusOr<bool> ConfigTable::OptionalBool(std::string_view key, bool fallback) const {
  const toml::node* node = Find(key);
  if (node == nullptr) return fallback;
  const toml::value<bool>* value = node->as_boolean();
  if (value == nullptr) return TypeError(key, "a boolean (true or false)", *node);
  return value->get();
}

absl::StatusOr<std::vector<std::string>> ConfigTable::OptionalStringList(
    std::string_view key) const {
  std::vector<std::string> out;
  const toml::node* node = Find(key);
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr) return TypeError(key, "an array of strings", *node);
  out.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const toml::value<std::string>* value = element.as_string();
    if (value == nullptr) {
      return TypeError(absl::StrCat(std::string(key), "[", i + 1, "]"), "a string", element);
    }
    out.push_back(value->get());
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> ConfigTable::OptionalIntegerList(std::string_view key) const {
  std::vector<int64_t> out;
  const toml::node* node = Find(key);
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr) return TypeError(key, "an array of integers", *node);
  out.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const toml::value<int64_t>* value = element.as_integer();
    if (value == nullptr) {
      return TypeError(absl::StrCat(std::string(key), "[", i + 1, "]"), "an integer", element);
    }
    out.push_back(value->get());
  }
  return out;
}

bool ConfigTable::Has(std::string_view key) const { return Find(key) != nullptr; }

std::vector<std::string> ConfigTable::Keys() const {
  std::vector<std::pair<int, std::string>> keys;
  if (table_ != nullptr) {
    for (const auto& [key, node] : *table_) keys.emplace_back(LineOfNode(node), key.str());
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (auto& [line, key] : keys) out.push_back(std::move(key));
  return out;
}

absl::StatusOr<ConfigTable> ConfigTable::Table(std::string_view key) const {
  const toml::node* node = Find(key);
  if (node == nullptr) return ConfigTable(root_, nullptr, file_, KeyPath(key), LineOf(key));
  const toml::table* table = node->as_table();
  if (table == nullptr) return TypeError(key, "a table", *node);
  return ConfigTable(root_, table, file_, KeyPath(key), LineOfNode(*table));
}

absl::StatusOr<std::vector<ConfigTable>> ConfigTable::TableArray(std::string_view key) const {
  std::vector<ConfigTable> out;
  const toml::node* node = Find(key);
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr) return TypeError(key, "an array of tables ([[...]])", *node);
  out.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string element_key = absl::StrCat(std::string(key), "[", i + 1, "]");
    const toml::table* table = element.as_table();
    if (table == nullptr) return TypeError(element_key, "a table", element);
    out.push_back(ConfigTable(root_, table, file_, KeyPath(element_key), LineOfNode(element)));
  }
  return out;
}

absl::Status ConfigTable::CheckKnownKeys(const std::set<std::string>& known) const {
  if (table_ == nullptr) return absl::OkStatus();
  // toml::table iterates in key order; report the unknown key that comes
  // first in the file, which is the one the operator reads first.
  const toml::node* first_node = nullptr;
  std::string_view first_key;
  for (const auto& [key, node] : *table_) {
    if (known.count(std::string(key.str())) != 0) continue;
    if (first_node == nullptr || LineOfNode(node) < LineOfNode(*first_node)) {
      first_node = &node;
      first_key = key.str();
    }
  }
  if (first_node == nullptr) return absl::OkStatus();

  std::string message = absl::StrCat("unknown key '", std::string(first_key), "'");
  if (path_.empty()) {
    absl::StrAppend(&message, " at the top level");
  } else {
    absl::StrAppend(&message, " in [", path_, "]");
  }
  const std::string* suggestion = nullptr;
  size_t best = 3;  // more than two edits away is not a typo
  for (const std::string& candidate : known) {
    size_t distance = EditDistance(first_key, candidate);
    if (distance < best) {
      best = distance;
      suggestion = &candidate;
    }
  }
  if (suggestion != nullptr) absl::StrAppend(&message, " (did you mean '", *suggestion, "'?)");
  absl::StrAppend(&message, "; known keys: ",
                  known.empty() ? std::string("(none)") : absl::StrJoin(known, ", "));
  return ConfigError(file_, LineOfNode(*first_node), message);
}

absl::StatusOr<ConfigTable> ParseConfig(const std::string& file_name, std::string_view text) {
  std::shared_ptr<const toml::table> root;
  try {
    root = std::make_shared<const toml::table>(toml::parse(text, std::string_view(file_name)));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ":", e.source().begin.line, ":",
                                                   e.source().begin.column, ": ",
                                                   std::string(e.description())));
  }
  const toml::table* table = root.get();
  return ConfigTable(std::shared_ptr<const void>(std::move(root)), table, file_name, "",
                     LineOfNode(*table));
}

absl::StatusOr<ConfigTable> LoadConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (absl::IsNotFound(text.status())) {
    return absl::NotFoundError(absl::StrCat("config file ", path, " not found"));
  }
  if (!text.ok()) {
    // ReadFile says "cannot open PATH: <strerror>"; keep only the reason so
    // the path is not repeated.
    std::string reason = std::string(text.status().message());
    if (size_t colon = reason.rfind(": "); colon != std::string_view::npos) {
      reason.erase(0, colon + 2);
    }
    return absl::Status(text.status().code(),
                        absl::StrCat("cannot read config file ", path, ": ", reason));
  }
  return ParseConfig(path, *text);
}

}  // namespace spoor
