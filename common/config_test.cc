#include "common/config.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "absl/status/status.h"

namespace spoor {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();

bool Contains(const absl::Status& status, const std::string& text) {
  return std::string(status.message()).find(text) != std::string::npos;
}

ConfigTable MustParse(std::string_view text) {
  absl::StatusOr<ConfigTable> config = ParseConfig("node.toml", text);
  INFO(config.status().ToString());
  REQUIRE(config.ok());
  return *config;
}

TEST_CASE("ParseConfig reads every kind of value", "[config]") {
  ConfigTable root = MustParse(R"(name = "site-a"
port = 7443
epsilon = 0.5
whole = 2
verbose = true
sites = ["a", "b"]

[disclosure]
min_records = 10

[[datasets]]
path = "one.csv"

[[datasets]]
path = "two.csv"
)");
  CHECK(root.file() == "node.toml");
  CHECK(root.path().empty());
  CHECK(*root.RequiredString("name") == "site-a");
  CHECK(*root.OptionalString("name", "x") == "site-a");
  CHECK(*root.OptionalString("absent", "fallback") == "fallback");
  CHECK(*root.OptionalInteger("port", 1, 1, 65535) == 7443);
  CHECK(*root.OptionalInteger("absent", 42, 1, 100) == 42);
  CHECK(*root.OptionalDouble("epsilon", 1.0) == 0.5);
  CHECK(*root.OptionalDouble("whole", 1.0) == 2.0);
  CHECK(*root.OptionalDouble("absent", 1.5) == 1.5);
  CHECK(*root.OptionalBool("verbose", false));
  CHECK_FALSE(*root.OptionalBool("absent", false));
  CHECK(*root.OptionalStringList("sites") == std::vector<std::string>{"a", "b"});
  CHECK(root.OptionalStringList("absent")->empty());

  absl::StatusOr<ConfigTable> disclosure = root.Table("disclosure");
  REQUIRE(disclosure.ok());
  CHECK(disclosure->path() == "disclosure");
  CHECK(*disclosure->OptionalInteger("min_records", 5, 1, kMaxInt) == 10);
  CHECK(disclosure->LineOf("min_records") == 9);
  CHECK(disclosure->LineOf("absent") == 8);

  absl::StatusOr<ConfigTable> missing = root.Table("absent");
  REQUIRE(missing.ok());
  CHECK(*missing->OptionalInteger("x", 3, 0, 10) == 3);
  CHECK(missing->CheckKnownKeys({}).ok());

  absl::StatusOr<std::vector<ConfigTable>> datasets = root.TableArray("datasets");
  REQUIRE(datasets.ok());
  REQUIRE(datasets->size() == 2);
  CHECK((*datasets)[0].path() == "datasets[1]");
  CHECK(*(*datasets)[1].RequiredString("path") == "two.csv");
  CHECK(root.TableArray("absent")->empty());

  CHECK(root.LineOf("port") == 2);
  CHECK(root.CheckKnownKeys(
                {"name", "port", "epsilon", "whole", "verbose", "sites", "disclosure", "datasets"})
            .ok());
}

TEST_CASE("Config type errors name the file, line, key and both types", "[config]") {
  ConfigTable root = MustParse(R"(# comment
name = 3
port = "7443"
epsilon = "x"
verbose = 1
sites = "a"
list = ["a", 2]
table = 5
)");
  absl::Status s = root.RequiredString("name").status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() == "node.toml:2: key 'name' must be a string, found an integer");

  s = root.OptionalString("name", "").status();
  CHECK(Contains(s, "node.toml:2:"));

  s = root.OptionalInteger("port", 1, 1, 65535).status();
  CHECK(s.message() ==
        "node.toml:3: key 'port' must be an integer between 1 and 65535, found a string");

  s = root.OptionalDouble("epsilon", 1).status();
  CHECK(Contains(s, "node.toml:4: key 'epsilon' must be a number, found a string"));

  s = root.OptionalBool("verbose", false).status();
  CHECK(Contains(s, "node.toml:5: key 'verbose' must be a boolean"));
  CHECK(Contains(s, "found an integer"));

  s = root.OptionalStringList("sites").status();
  CHECK(Contains(s, "node.toml:6: key 'sites' must be an array of strings, found a string"));

  s = root.OptionalStringList("list").status();
  CHECK(Contains(s, "node.toml:7: key 'list[2]' must be a string, found an integer"));

  s = root.Table("table").status();
  CHECK(Contains(s, "node.toml:8: key 'table' must be a table, found an integer"));

  s = root.TableArray("name").status();
  CHECK(Contains(s, "node.toml:2: key 'name' must be an array of tables"));
}

TEST_CASE("Config missing required key points at its table", "[config]") {
  ConfigTable root = MustParse("a = 1\n\n[node]\nport = 1\n");
  absl::Status s = root.RequiredString("name").status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(s, "node.toml:1: missing required key 'name'"));

  ConfigTable node = *root.Table("node");
  s = node.RequiredString("id").status();
  CHECK(Contains(s, "node.toml:3: missing required key 'node.id' in [node]"));

  ConfigTable absent = *root.Table("tls");
  s = absent.RequiredString("cert").status();
  CHECK(Contains(s, "node.toml:1: missing required key 'tls.cert'"));

  ConfigTable empty = MustParse("name = \"\"\n");
  s = empty.RequiredString("name").status();
  CHECK(Contains(s, "node.toml:1: key 'name' must not be empty"));
}

TEST_CASE("Config integer range errors", "[config]") {
  ConfigTable root = MustParse("[disclosure]\nmin_records = 0\nmax = 500\nneg = -4\n");
  ConfigTable disclosure = *root.Table("disclosure");
  absl::Status s = disclosure.OptionalInteger("min_records", 5, 1, 100).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() ==
        "node.toml:2: key 'disclosure.min_records' must be an integer between 1 and 100, "
        "found 0");
  s = disclosure.OptionalInteger("min_records", 5, 1, kMaxInt).status();
  CHECK(Contains(s, "node.toml:2: key 'disclosure.min_records' must be an integer >= 1, found 0"));
  s = disclosure.OptionalInteger("max", 5, std::numeric_limits<int64_t>::min(), 100).status();
  CHECK(Contains(s, "node.toml:3: key 'disclosure.max' must be an integer <= 100, found 500"));
  CHECK(*disclosure.OptionalInteger("neg", 0, -10, 10) == -4);
  CHECK(*disclosure.OptionalInteger("max", 0, 500, 500) == 500);
}

TEST_CASE("Config non-finite doubles are rejected", "[config]") {
  ConfigTable root = MustParse("a = nan\nb = inf\n");
  CHECK(Contains(root.OptionalDouble("a", 0).status(), "node.toml:1: key 'a' must be a finite"));
  CHECK(Contains(root.OptionalDouble("b", 0).status(), "node.toml:2:"));
}

TEST_CASE("Config unknown keys are reported with the known list", "[config]") {
  ConfigTable root = MustParse(R"(name = "a"

[disclosure]
min_records = 5
zzz = 1
min_record = 3
)");
  absl::Status s = root.CheckKnownKeys({"name"});
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(s, "node.toml:3: unknown key 'disclosure' at the top level"));
  CHECK(Contains(s, "known keys: name"));

  ConfigTable disclosure = *root.Table("disclosure");
  s = disclosure.CheckKnownKeys({"min_records", "max_share"});
  // zzz sorts after min_record but comes first in the file.
  CHECK(Contains(s, "node.toml:5: unknown key 'zzz' in [disclosure]"));
  CHECK(Contains(s, "known keys: max_share, min_records"));

  s = disclosure.CheckKnownKeys({"min_records", "zzz"});
  CHECK(Contains(s,
                 "node.toml:6: unknown key 'min_record' in [disclosure] "
                 "(did you mean 'min_records'?); known keys: min_records, zzz"));
  CHECK(disclosure.CheckKnownKeys({"min_records", "zzz", "min_record"}).ok());
}

TEST_CASE("Config nested tables and arrays of tables give dotted paths", "[config]") {
  ConfigTable root = MustParse(R"([node.tls]
cert = 5

[[datasets]]
path = "a.csv"

[[datasets]]
name = "b"
path = 7
typo = true
)");
  ConfigTable node = *root.Table("node");
  ConfigTable tls = *node.Table("tls");
  CHECK(tls.path() == "node.tls");
  CHECK(Contains(tls.RequiredString("cert").status(),
                 "node.toml:2: key 'node.tls.cert' must be a string, found an integer"));

  std::vector<ConfigTable> datasets = *root.TableArray("datasets");
  REQUIRE(datasets.size() == 2);
  CHECK(datasets[1].path() == "datasets[2]");
  CHECK(datasets[1].RequiredString("path").status().message() ==
        "node.toml:9: key 'datasets[2].path' must be a string, found an integer");
  CHECK(Contains(datasets[1].CheckKnownKeys({"name", "path"}),
                 "node.toml:10: unknown key 'typo' in [datasets[2]]"));
  CHECK(Contains(datasets[0].RequiredString("name").status(),
                 "node.toml:4: missing required key 'datasets[1].name'"));

  ConfigTable mixed = MustParse("datasets = [{ path = \"a\" }, 3]\n");
  CHECK(Contains(mixed.TableArray("datasets").status(),
                 "node.toml:1: key 'datasets[2]' must be a table, found an integer"));
}

TEST_CASE("Config syntax errors give line and column", "[config]") {
  absl::StatusOr<ConfigTable> config = ParseConfig("node.toml", "a = 1\nb = = 2\n");
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(config.status(), "node.toml:2:5: "));

  config = ParseConfig("node.toml", "a = 1\n\na = 2\n");
  REQUIRE_FALSE(config.ok());
  CHECK(Contains(config.status(), "node.toml:3:"));
}

TEST_CASE("LoadConfig reads files and reports missing ones", "[config]") {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("spoor_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string missing = (dir / "missing.toml").string();
  absl::StatusOr<ConfigTable> config = LoadConfig(missing);
  CHECK(config.status().code() == absl::StatusCode::kNotFound);
  CHECK(config.status().message() == "config file " + missing + " not found");

  std::string present = (dir / "node.toml").string();
  {
    std::ofstream out(present);
    out << "name = \"x\"\nport = \"y\"\n";
  }
  config = LoadConfig(present);
  REQUIRE(config.ok());
  CHECK(config->file() == present);
  CHECK(*config->RequiredString("name") == "x");
  CHECK(Contains(config->OptionalInteger("port", 1, 1, 2).status(), present + ":2: key 'port'"));

  config = LoadConfig(dir.string());  // a directory: readable as neither
  CHECK_FALSE(config.ok());
  CHECK(Contains(config.status(), "cannot read config file " + dir.string() + ": "));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace spoor
