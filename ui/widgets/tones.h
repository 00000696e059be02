// SPDX-License-Identifier: MIT
#pragma once

#include <QColor>
#include <QPalette>
#include <QString>

namespace outbox::ui {

// The console's few colours of meaning, chosen for the palette they are shown on: the darker shades on a light
// window, lighter ones on a dark window, so that text in them keeps a contrast of at least 4.5:1 (WCAG AA)
// against the window and the table's base either way.
enum class Tone {
    Good, // sent, relaying
    Warning, // retrying, paused, stalled
    Bad, // failed, errors
    Info, // operator entries, links of meaning
    JsonKey,
    JsonString,
    JsonNumber,
    JsonLiteral,
};

bool isDark(const QPalette &palette);
// The colour of a tone on the application's palette (or the given one).
QColor toneColour(Tone tone);
QColor toneColour(Tone tone, const QPalette &palette);
// "color: #rrggbb" for a widget's style sheet (bold: and font-weight: bold).
QString toneStyle(Tone tone, bool bold = false);
// WCAG's contrast ratio of two colours (1 to 21).
double contrastRatio(const QColor &a, const QColor &b);

} // namespace outbox::ui
