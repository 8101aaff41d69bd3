// What the SVG figures (km_plot.cc, forest_plot.cc) share: one look (font,
// ink, the Okabe-Ito palette) and one way of writing text, numbers and axis
// ticks into a document, so that every figure escapes its labels the same
// way and no figure needs external resources.
//
// Pure functions; thread-safe.
#ifndef SPOOR_CLI_SVG_H_
#define SPOOR_CLI_SVG_H_

#include <string>
#include <vector>

namespace spoor::svg {

// Okabe-Ito ("Color Universal Design", 2008), without yellow first (it is
// faint on white): blue, vermillion, bluish green, reddish purple, orange,
// sky blue, black, yellow.
inline constexpr const char* kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                           "#E69F00", "#56B4E9", "#000000", "#F0E442"};
inline constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

inline constexpr char kFont[] = "Helvetica, Arial, sans-serif";
inline constexpr char kInk[] = "#222222";
inline constexpr int kFontSize = 12;
// Average advance of a sans-serif glyph at kFontSize, for layout only (the
// SVG has no access to font metrics).
inline constexpr double kCharWidth = 7.0;

// `text` with &, <, >, " and ' replaced by their XML entities; safe in
// element content and in quoted attribute values.
std::string Escape(const std::string& text);

// A coordinate with at most two decimals and no trailing zeros ("12.5",
// "0", never "-0").
std::string Num(double v);

// The layout width of `text` at kFontSize (kCharWidth per byte).
double TextWidth(const std::string& text);

// <text x y text-anchor extra>escaped text</text>, one line. `extra` is
// inserted verbatim into the start tag (e.g. " class=\"label\""); it must be
// well-formed and already escaped.
std::string Text(double x, double y, const std::string& text, const char* anchor,
                 const std::string& extra = "");

// <line x1 y1 x2 y2/>, one line; the stroke comes from an enclosing group.
std::string Line(double x1, double y1, double x2, double y2);

// "Nice" tick positions (steps of 1, 2, 2.5 or 5 times a power of ten)
// covering [lo, hi] with about `target` intervals: the first tick <= lo, the
// last >= hi. Requires lo < hi and target >= 1.
std::vector<double> NiceTicks(double lo, double hi, int target);

// Decimals needed to print multiples of `step` exactly (0.25 -> 2, 500 -> 0).
int TickDecimals(double step);

// `v` with `decimals` decimals, "0" rather than "-0" or "-0.0".
std::string TickLabel(double v, int decimals);

}  // namespace spoor::svg

#endif  // SPOOR_CLI_SVG_H_
