// SPDX-License-Identifier: MIT
#pragma once

#include "outbox_export.h"

#include "error.h"

#include <QString>

namespace outbox {

/// Parses a duration such as "7d", "12h", "30m", "45s", "500ms" or a combination ("1h30m") into milliseconds.
OUTBOX_EXPORT Result<qint64> parseDuration(const QString &text);

} // namespace outbox
