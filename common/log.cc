#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace spoor {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
absl::Mutex g_mu;
std::string* g_component ABSL_GUARDED_BY(g_mu) = nullptr;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO ";
    case LogLevel::kWarning: return "WARN ";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

void SetLogComponent(std::string_view component) {
  absl::MutexLock lock(&g_mu);
  delete g_component;
  g_component = new std::string(component);
}

void LogLine(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  std::string stamp =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  absl::MutexLock lock(&g_mu);
  std::fprintf(stderr, "%s %s %s%s%.*s\n", stamp.c_str(), LevelName(level),
               g_component ? g_component->c_str() : "", g_component ? ": " : "",
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

}  // namespace spoor
