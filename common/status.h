// Status helpers shared by every spoor library.
//
// Debian's Abseil (20220623) has no status macros, so they are defined here,
// once. Codes carry meaning for callers (see docs/design/status-codes.md):
//   UNAVAILABLE          retry the call
//   ABORTED              retry the round
//   FAILED_PRECONDITION  do not retry until someone fixes state
//   INVALID_ARGUMENT     the request is wrong
#ifndef SPOOR_COMMON_STATUS_H_
#define SPOOR_COMMON_STATUS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SPOOR_STATUS_CONCAT_INNER_(a, b) a##b
#define SPOOR_STATUS_CONCAT_(a, b) SPOOR_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define SPOOR_RETURN_IF_ERROR(expr)                   \
  do {                                                \
    ::absl::Status spoor_status_ = (expr);            \
    if (!spoor_status_.ok()) return spoor_status_;    \
  } while (false)

// SPOOR_ASSIGN_OR_RETURN(auto x, MakeX()); declares or assigns the value of
// an absl::StatusOr<T>, returning its status from the enclosing function on
// error.
#define SPOOR_ASSIGN_OR_RETURN(lhs, expr) \
  SPOOR_ASSIGN_OR_RETURN_IMPL_(SPOOR_STATUS_CONCAT_(spoor_or_, __LINE__), lhs, expr)

#define SPOOR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

#endif  // SPOOR_COMMON_STATUS_H_
