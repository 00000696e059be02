// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QString>

namespace outbox::ui {

// Text from an event made safe to show in one line of a table: control characters become spaces, and it is
// cut at `max` characters. Qt's item views draw DisplayRole as plain text, never as rich text.
QString oneLine(const QString &text, int max = 500);
// oneLine(), cut in the middle rather than at the end: ids that share a long prefix (UUIDv7) stay told apart.
QString elideMiddle(const QString &text, int max);
// The longest run of a failure cause (failureCause()) without a '#' placeholder, trimmed: a substring that the
// errors of that cause share, for an "error contains" filter. Empty when no run has 3 characters.
QString longestLiteral(const QString &cause);
// A tooltip that shows text literally (Qt would render a tooltip that looks like HTML as HTML).
QString plainTooltip(const QString &text);
// A payload as the detail pane shows it: pretty JSON when it is JSON, UTF-8 text when it is valid text,
// otherwise a hex dump. `kind` says which.
QString payloadText(const QByteArray &data, QString *kind);
QString hexDump(const QByteArray &data, int maxBytes = 64 * 1024);

} // namespace outbox::ui
