#include "cli/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace spoor::svg {

std::string Escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

double TextWidth(const std::string& text) { return kCharWidth * static_cast<double>(text.size()); }

std::string Text(double x, double y, const std::string& text, const char* anchor,
                 const std::string& extra) {
  return absl::StrCat("<text x=\"", Num(x), "\" y=\"", Num(y), "\" text-anchor=\"", anchor, "\"",
                      extra, ">", Escape(text), "</text>\n");
}

std::string Line(double x1, double y1, double x2, double y2) {
  return absl::StrCat("<line x1=\"", Num(x1), "\" y1=\"", Num(y1), "\" x2=\"", Num(x2), "\" y2=\"",
                      Num(y2), "\"/>\n");
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  double nice = 10;
  for (double candidate : {1.0, 2.0, 2.5, 5.0}) {
    if (normalised <= candidate * (1 + 1e-9)) {
      nice = candidate;
      break;
    }
  }
  const double step = nice * magnitude;
  const double first = std::floor(lo / step + 1e-9);
  const double last = std::ceil(hi / step - 1e-9);
  std::vector<double> ticks;
  for (double k = first; k <= last; ++k) ticks.push_back(k * step);
  return ticks;
}

int TickDecimals(double step) {
  for (int d = 0; d < 10; ++d) {
    const double scaled = step * std::pow(10.0, d);
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * scaled) return d;
  }
  return 10;
}

std::string TickLabel(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos)
    s = decimals > 0 ? s.substr(s[0] == '-') : "0";
  return s;
}

}  // namespace spoor::svg
