// SPDX-License-Identifier: MIT
#pragma once

// JSON text shown to people, as it is stored: re-indented without parsing its values, so numbers keep every
// digit and keys their order. Private to the engine's users in this repository (the console, outboxctl).

#include <QByteArray>
#include <QString>

namespace outbox {

// Re-indented, `width` spaces a level; lines after the first start `baseDepth` levels in (for a value placed
// inside a larger document).
QString indentJson(const QByteArray &json, int width = 2, int baseDepth = 0);
// On one line: the whitespace between tokens removed, nothing else changed.
QByteArray compactJson(const QByteArray &json);
// JSON text for a terminal: C1 control characters (U+0080-U+009F, which a terminal may take as the start of
// an escape sequence; they can only stand inside strings) written as \u00XX escapes. JSON says the same.
QByteArray escapeC1Controls(const QByteArray &json);

} // namespace outbox
