// Minimal leveled logging to stderr for the daemons: one line per event,
// "2026-11-23T09:00:00.123Z INFO  node: message". Thread-safe.
//
// Log counts and identifiers, never cells: no patient-level value may ever be
// passed to these functions.
#ifndef SPOOR_COMMON_LOG_H_
#define SPOOR_COMMON_LOG_H_

#include <string_view>

#include "absl/strings/str_cat.h"

namespace spoor {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
// Sets the component name printed on every line ("coordinator", "node").
void SetLogComponent(std::string_view component);
void LogLine(LogLevel level, std::string_view message);

template <typename... Args>
void LogInfo(const Args&... args) { LogLine(LogLevel::kInfo, absl::StrCat(args...)); }
template <typename... Args>
void LogWarning(const Args&... args) { LogLine(LogLevel::kWarning, absl::StrCat(args...)); }
template <typename... Args>
void LogError(const Args&... args) { LogLine(LogLevel::kError, absl::StrCat(args...)); }
template <typename... Args>
void LogDebug(const Args&... args) { LogLine(LogLevel::kDebug, absl::StrCat(args...)); }

}  // namespace spoor

#endif  // SPOOR_COMMON_LOG_H_
